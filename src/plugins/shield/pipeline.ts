/** Which rewrite pipeline a response body takes (scanners-extra §3.3 step 3). */

export type ShieldPipeline = 'html' | 'javascript' | 'svg'

const HTML_SNIFF = ['<!DOCTYPE HTML', '<HTML', '<HEAD', '<SCRIPT', '<IFRAME', '<H1', '<DIV', '<FONT', '<TABLE', '<A', '<STYLE', '<TITLE', '<B', '<BODY', '<BR', '<P', '<!--']

/** Go's `DetectContentType` HTML signatures: after leading whitespace, a tag followed by space or `>`. */
function sniffsHtml(head: Buffer): boolean {
  const s = head.toString('latin1').replace(/^[\t\n\f\r ]+/, '').toUpperCase()
  return HTML_SNIFF.some((sig) => s.startsWith(sig) && (s[sig.length] === ' ' || s[sig.length] === '>'))
}

/** null: not shieldable (left untouched). */
export function detectPipeline(contentType: string, body: Buffer): ShieldPipeline | null {
  const mt = (contentType.split(';', 1)[0] ?? '').trim().toLowerCase()
  if (mt === 'text/html' || mt === 'application/xhtml+xml') return 'html'
  if (mt === 'text/javascript' || mt === 'application/javascript') return 'javascript'
  if (mt === 'image/svg+xml') return 'svg'
  if (mt !== '' && mt !== 'application/octet-stream') return null
  return sniffsHtml(body.subarray(0, 512)) ? 'html' : null
}
