/**
 * The script shims the HTML pipeline injects (scanners-extra §3.4 step 4). Ours, written for this
 * port: the extension-probe shim refuses `chrome-extension://` / `moz-extension://` fetches; the
 * fingerprint shim flattens canvas, WebGL vendor strings and beacons.
 */

export const EXTENSION_PROBE_SHIM = [
  '(function(){var bad=/^(?:chrome|moz)-extension:\\/\\//i;',
  'if(window.fetch){var f=window.fetch;window.fetch=function(u,o){var s=typeof u==="string"?u:(u&&u.url)||"";if(bad.test(s))return Promise.reject(new TypeError("blocked"));return f.call(this,u,o)}}',
  'if(window.XMLHttpRequest){var op=XMLHttpRequest.prototype.open;XMLHttpRequest.prototype.open=function(m,u){if(bad.test(String(u)))throw new TypeError("blocked");return op.apply(this,arguments)}}',
  '})();',
].join('')

export const FINGERPRINT_SHIM = [
  '(function(){var png="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";',
  'if(window.HTMLCanvasElement){var td=HTMLCanvasElement.prototype.toDataURL;HTMLCanvasElement.prototype.toDataURL=function(){if(this.width<=300&&this.height<=150)return png;return td.apply(this,arguments)}}',
  'if(window.WebGLRenderingContext){var gp=WebGLRenderingContext.prototype.getParameter;WebGLRenderingContext.prototype.getParameter=function(p){if(p===37445)return "Generic Vendor";if(p===37446)return "Generic Renderer";return gp.apply(this,arguments)};',
  'var ge=WebGLRenderingContext.prototype.getExtension;WebGLRenderingContext.prototype.getExtension=function(n){if(n==="WEBGL_debug_renderer_info")return null;return ge.apply(this,arguments)}}',
  'if(navigator.sendBeacon){navigator.sendBeacon=function(){return false}}',
  '})();',
].join('')

const CSP_NONCE = /'nonce-([A-Za-z0-9+/=]+)'/
const NONCE_VALUE = /^[A-Za-z0-9+/=]+$/

/** The nonce the shim block carries: the CSP header's first, else the page's first script nonce (as the parser read it). */
export function shimNonce(csp: string, firstScriptNonce: string): string {
  return CSP_NONCE.exec(csp)?.[1] ?? (NONCE_VALUE.test(firstScriptNonce) ? firstScriptNonce : '')
}

export function shimBlock(shims: readonly string[], nonce: string): string {
  return `<script${nonce === '' ? '' : ` nonce="${nonce}"`}>${shims.join('\n')}</script>`
}
