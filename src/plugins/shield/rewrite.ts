/**
 * The Browser Shield rewrite (scanners-extra §3.4). Structure is read with htmlparser2 rather than
 * the reference's regexes: a tokenizer that reports each tag's byte offsets lets us delete exactly
 * the hidden element (its nested children and an unclosed tail included) and rebuild only the SVG
 * tags whose attributes change, leaving every other byte of the page as the server sent it —
 * which a re-serialising DOM parser (parse5) would not. htmlparser2 is maintained, dependency-light
 * and streams in linear time. Token-level deletions that are not structure (extension probes,
 * beacon calls, tracking domains) stay patterns, run with RE2 (linear time on untrusted bodies).
 *
 * The body is handled as latin1 so that string offsets are byte offsets and every byte we do not
 * touch — whatever the page's charset — comes out unchanged.
 */
import {Parser} from 'htmlparser2'
import RE2 from 're2'
import type {ShieldPipeline} from './pipeline.js'
import type {ShieldSettings} from './settings.js'
import {EXTENSION_PROBE_SHIM, FINGERPRINT_SHIM, shimBlock, shimNonce} from './shims.js'

export interface ShieldCounts {
  extension: number
  tracking: number
  trap: number
  svg: number
  shims: number
}

export function emptyCounts(): ShieldCounts {
  return {extension: 0, tracking: 0, trap: 0, svg: 0, shims: 0}
}

type Category = 'extension' | 'tracking' | 'trap' | 'svg'

const EXTENSION_URLS = new RE2('(?:chrome|moz)-extension://[a-z0-9-]*|chrome\\.runtime\\.sendMessage', 'gi')
const EXTENSION_PROBES = new RE2('\\b(?:fetchExtensions|scanDOMForPrefix|fireExtensionDetectedEvents)\\b', 'gi')
const BEACON = new RE2('navigator\\.sendBeacon\\s*\\(', 'gi')

/** Words of an instruction aimed at the agent (the reference's trap vocabulary). */
const INSTRUCTION = /ignore|disregard|forget|override|instead|instruction/i
/**
 * Inline styles that hide an element, over `cssInlineText`'s output. `font-size:0`/`opacity:0`
 * must be zero, not `0.8em`. A property name's `-` may be written as an escape (ESCAPED_HYPHEN).
 */
const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden|font[-\uE02D]size\s*:\s*0(?:\.0+)?(?:px|em|rem|pt|%)?\s*(?:;|!|$)/i
/**
 * aggressive: also fully transparent or pushed off-screen. An escape right after the offset's
 * digits begins its unit, which is then no unit (`-1000\30 px` is -1000 of unit `0px`: dropped).
 */
const HIDDEN_STYLE_AGGRESSIVE = /opacity\s*:\s*0(?:\.0+)?\s*(?:;|!|$)|(?:left|top|text[-\uE02D]indent)\s*:\s*-\d{4,}(?![\d\uE02D\uE030-\uE039\uFFFD])/i
const SVG_HIDDEN_STYLE = /opacity\s*:\s*0(?:\.0+)?\s*(?:;|!|$)|display\s*:\s*none|visibility\s*:\s*hidden/i
const NEVER_DELETED = new Set(['html', 'head', 'body'])
const HEX = /[0-9a-f]/i
const CSS_WS = /[ \t\n\r\f]/
/** A code point an escape may stand for inside a CSS identifier: ASCII letter, digit, `-`, `_`, or non-ASCII. */
const NAME_CHAR = /^[a-z0-9_-]$|^[^\0-\x7f]$/i
/**
 * What an escaped `-` or digit is written as. A browser reads an escape as part of an identifier,
 * never of a number: `font-size:\30` is the identifier `0`, not the length 0, so the declaration
 * is invalid and the element stays visible; `left:\2d 10000px` is the identifier `-10000px`. In a
 * name they are the plain characters (`font\2d size` is `font-size`), so the patterns accept the
 * hyphen's stand-in where a property name has one, and no digit pattern matches these.
 */
const ESCAPED_HYPHEN = '\uE02D'
const ESCAPED_DIGIT_BASE = 0xe030

/**
 * An inline style as a browser's CSS tokenizer reads it, so the hidden-style patterns see what
 * the page hides (CSS Syntax 3 §4.3): comments read as a token break, and escapes decoded — `\` with 1–6 hex
 * digits and one optional whitespace, or `\` with any other character (`display:\6e one` is
 * `display:none`). An escape is always part of an identifier, never a delimiter, so one that
 * stands for `:`, `;` or a space is read as U+FFFD and cannot forge a declaration.
 */
export function cssInlineText(style: string): string {
  if (!style.includes('\\') && !style.includes('/*')) return style
  let out = ''
  let i = 0
  while (i < style.length) {
    const c = style[i]!
    if (c === '/' && style[i + 1] === '*') {
      const end = style.indexOf('*/', i + 2)
      i = end < 0 ? style.length : end + 2
      // A comment separates tokens (`dis/**/play` is not `display`).
      out += ' '
      continue
    }
    if (c !== '\\') {
      out += c
      i++
      continue
    }
    i++
    if (i >= style.length) {
      out += '\uFFFD'
      break
    }
    let cp: number
    if (HEX.test(style[i]!)) {
      let hex = ''
      while (hex.length < 6 && i < style.length && HEX.test(style[i]!)) hex += style[i++]
      if (style[i] === '\r' && style[i + 1] === '\n') i += 2
      else if (i < style.length && CSS_WS.test(style[i]!)) i++
      cp = parseInt(hex, 16)
      if (cp === 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) cp = 0xfffd
    } else if (style[i] === '\n' || style[i] === '\r' || style[i] === '\f') {
      // Not an escape outside a string: the backslash stands alone, the newline stays.
      out += '\uFFFD'
      continue
    } else {
      cp = style.codePointAt(i)!
      i += cp > 0xffff ? 2 : 1
    }
    const ch = String.fromCodePoint(cp)
    if (ch === '-') out += ESCAPED_HYPHEN
    else if (ch >= '0' && ch <= '9') out += String.fromCharCode(ESCAPED_DIGIT_BASE + cp - 0x30)
    else out += NAME_CHAR.test(ch) ? ch : '\uFFFD'
  }
  return out
}
/** The reference's hidden-element set; `minimal` keeps to it. */
const MINIMAL_HIDDEN = new Set(['div', 'span', 'p'])
const SVG_ANIMATION = new Set(['animate', 'set', 'animatetransform', 'animatemotion'])
const TRAP_TEXT_CAP = 64 * 1024

function localName(raw: string): string {
  const i = raw.indexOf(':')
  return (i >= 0 ? raw.slice(i + 1) : raw).toLowerCase()
}

function lowerKeys(a: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(a)) if (!(k.toLowerCase() in out)) out[k.toLowerCase()] = v
  return out
}

const isOne = (v: string | undefined): boolean => v !== undefined && v.trim() === '1'

function escapeAttr(v: string): string {
  return v.replaceAll('&', '&amp;').replaceAll('"', '&quot;')
}

/** Token-level passes (§3.4 steps 1–2): counted deletions; also the whole JavaScript pipeline. */
export function tokenPasses(src: string, s: ShieldSettings, trackingDomains: RE2 | null, counts: ShieldCounts): string {
  let out = src
  // A page without any of the tokens (most pages) costs one lower-casing and a few substring
  // searches instead of an RE2 pass per pattern over the whole body.
  const lower = s.stripExtensionProbing || s.stripTrackingPixels ? src.toLowerCase() : ''
  const has = (...needles: string[]): boolean => needles.some((n) => lower.includes(n))
  const del = (re: RE2, cat: Category): void => {
    out = out.replace(re, () => {
      counts[cat]++
      return ''
    })
  }
  if (s.stripExtensionProbing) {
    if (has('-extension://', 'chrome.runtime.sendmessage')) del(EXTENSION_URLS, 'extension')
    if (has('fetchextensions', 'scandomforprefix', 'fireextensiondetectedevents')) del(EXTENSION_PROBES, 'extension')
  }
  if (s.stripTrackingPixels) {
    if (has('navigator.sendbeacon')) del(BEACON, 'tracking')
    if (trackingDomains !== null) del(trackingDomains, 'tracking')
  }
  return out
}

/** The tracking-domain pattern (each domain quoted; any occurrence of its text is deleted), or null. */
export function compileTrackingDomains(domains: readonly string[]): RE2 | null {
  const ds = domains.map((d) => d.trim()).filter((d) => d !== '')
  if (ds.length === 0) return null
  return new RE2(ds.map((d) => d.replace(/[\\^$.*+?()[\]{}|-]/g, '\\$&')).join('|'), 'gi')
}

interface Edit {
  readonly start: number
  /** Exclusive. */
  readonly end: number
  readonly text: string
  readonly cat: Category | null
  /** How many findings the edit removes (an SVG tag rebuild may drop several attributes). */
  readonly weight?: number
}

interface Frame {
  readonly name: string
  readonly start: number
  del: Category | null
  trapText: boolean
  text: string
}

/**
 * The structural pass: hidden traps, tracking pixels and prefetch links (HTML), SVG active content,
 * and the shim block after `<head>` (HTML).
 */
export function structuralPass(src: string, mode: 'html' | 'svg', s: ShieldSettings, csp: string, counts: ShieldCounts): string {
  const edits: Edit[] = []
  const stack: Frame[] = []
  let headAt = -1
  let htmlAt = -1
  let scriptNonce = ''
  let atEnd = false
  const aggressive = s.strictness === 'aggressive'
  const parser = new Parser(
    {
      onopentag(rawName, rawAttribs) {
        const start = parser.startIndex
        const tagEnd = parser.endIndex + 1
        const name = localName(rawName)
        // The HTML tokenizer lower-cases attribute names already; XML mode (SVG) keeps their case.
        const a = mode === 'svg' ? lowerKeys(rawAttribs) : rawAttribs
        const f: Frame = {name, start, del: null, trapText: false, text: ''}
        if (mode === 'html') {
          if (name === 'head' && headAt < 0) headAt = tagEnd
          if (name === 'html' && htmlAt < 0) htmlAt = tagEnd
          if (name === 'script' && scriptNonce === '' && a.nonce !== undefined) scriptNonce = a.nonce
          if (s.stripTrackingPixels) {
            if (name === 'img' && isOne(a.width) && isOne(a.height)) f.del = 'tracking'
            if (name === 'link' && /(?:^|\s)prefetch(?:\s|$)/i.test(a.rel ?? '')) f.del = 'tracking'
          }
        }
        if (s.stripHiddenTraps && !NEVER_DELETED.has(name) && f.del === null) {
          const style = cssInlineText(a.style ?? '')
          const hiddenSet = s.strictness === 'minimal' ? MINIMAL_HIDDEN.has(name) : true
          if (hiddenSet && (HIDDEN_STYLE.test(style) || (aggressive && HIDDEN_STYLE_AGGRESSIVE.test(style)))) f.del = 'trap'
          else if (a['aria-hidden']?.trim().toLowerCase() === 'true' || (s.strictness !== 'minimal' && 'hidden' in a)) {
            if (aggressive && 'hidden' in a) f.del = 'trap'
            else f.trapText = true
          }
          if (mode === 'html' && name === 'meta' && s.strictness !== 'minimal' && INSTRUCTION.test(a.content ?? '')) f.del = 'trap'
        }
        if (mode === 'svg' && f.del === null) {
          if (name === 'script' || name === 'foreignobject') f.del = 'svg'
          else if (SVG_ANIMATION.has(name) && /^(?:on[a-z]+|(?:xlink:)?href)$/i.test((a.attributename ?? '').trim())) f.del = 'svg'
          else if (name === 'text' && (SVG_HIDDEN_STYLE.test(cssInlineText(a.style ?? '')) || a.display?.trim().toLowerCase() === 'none' || a.visibility?.trim().toLowerCase() === 'hidden' || /^0(?:\.0+)?$/.test(a.opacity?.trim() ?? ''))) f.del = 'svg'
          else {
            // Event handlers removed, external references pointed at a dead local anchor.
            let changed = 0
            const kept: string[] = []
            for (const [k, v] of Object.entries(rawAttribs)) {
              const lk = k.toLowerCase()
              if (/^on[a-z]+$/.test(lk)) {
                changed++
                continue
              }
              if ((lk === 'href' || lk === 'xlink:href') && v !== '' && !v.startsWith('#')) {
                changed++
                kept.push(` ${k}="#_stripped"`)
                continue
              }
              kept.push(` ${k}="${escapeAttr(v)}"`)
            }
            if (changed > 0) {
              const selfClosing = src[tagEnd - 2] === '/'
              edits.push({start, end: tagEnd, text: `<${rawName}${kept.join('')}${selfClosing ? '/' : ''}>`, cat: 'svg', weight: changed})
            }
          }
        }
        stack.push(f)
      },
      ontext(t) {
        for (const f of stack) if (f.trapText && f.text.length < TRAP_TEXT_CAP) f.text += t
      },
      onclosetag(_name, implied) {
        const f = stack.pop()
        if (f === undefined) return
        let end: number
        if (atEnd) end = src.length
        else if (implied && parser.startIndex === f.start) end = parser.endIndex + 1 // void or self-closing
        else if (implied) end = parser.startIndex // closed by the next tag
        else end = parser.endIndex + 1
        if (f.del !== null) edits.push({start: f.start, end, text: '', cat: f.del})
        else if (f.trapText && INSTRUCTION.test(f.text)) edits.push({start: f.start, end, text: '', cat: 'trap'})
      },
      oncomment(data) {
        if (s.stripHiddenTraps && s.strictness !== 'minimal' && INSTRUCTION.test(data)) {
          edits.push({start: parser.startIndex, end: parser.endIndex + 1, text: '', cat: 'trap'})
        }
      },
    },
    {xmlMode: mode === 'svg', decodeEntities: true, recognizeSelfClosing: true},
  )
  parser.write(src)
  atEnd = true
  parser.end()

  if (mode === 'html') {
    const shims = [...(s.stripExtensionProbing ? [EXTENSION_PROBE_SHIM] : []), ...(s.injectFingerprintShims ? [FINGERPRINT_SHIM] : [])]
    if (shims.length > 0) {
      counts.shims += shims.length
      edits.push({start: headAt >= 0 ? headAt : htmlAt >= 0 ? htmlAt : 0, end: -1, text: shimBlock(shims, shimNonce(csp, scriptNonce)), cat: null})
    }
  }
  return applyEdits(src, edits, counts)
}

/** Applies non-overlapping edits in order; an edit inside a deleted range is dropped (end -1 = insertion). */
function applyEdits(src: string, edits: Edit[], counts: ShieldCounts): string {
  if (edits.length === 0) return src
  const sorted = [...edits].sort((x, y) => x.start - y.start || (y.end === -1 ? 1 : 0) - (x.end === -1 ? 1 : 0) || y.end - x.end)
  const parts: string[] = []
  let pos = 0
  for (const e of sorted) {
    if (e.end === -1) {
      // An insertion point inside a deleted range moves to the range's end.
      const at = Math.max(e.start, pos)
      parts.push(src.slice(pos, at), e.text)
      pos = at
      continue
    }
    if (e.start < pos) continue
    parts.push(src.slice(pos, e.start), e.text)
    pos = e.end
    if (e.cat !== null) counts[e.cat] += e.weight ?? 1
  }
  parts.push(src.slice(pos))
  return parts.join('')
}

export interface RewriteResult {
  readonly text: string
  readonly counts: ShieldCounts
}

/** One pipeline over a latin1 string (byte offsets = string offsets). */
export function rewrite(src: string, pipeline: ShieldPipeline, s: ShieldSettings, csp: string, trackingDomains: RE2 | null): RewriteResult {
  const counts = emptyCounts()
  let text = tokenPasses(src, s, trackingDomains, counts)
  if (pipeline === 'html') text = structuralPass(text, 'html', s, csp, counts)
  // SVG active content is hardened whatever the toggles (§3.4).
  if (pipeline === 'svg') text = structuralPass(text, 'svg', s, csp, counts)
  return {text, counts}
}
