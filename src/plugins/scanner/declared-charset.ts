/**
 * A body read in the charset its Content-Type declares: a response for the injection scan, a
 * request body for DLP (`body-scanner.ts`, the header's label only). A client
 * that honours the label (Python's `requests` and `httpx` do) reads EBCDIC, UTF-7, UTF-16 or
 * ISO-2022-JP bytes as words the body's UTF-8 reading does not show; a label this runtime cannot
 * decode is a body the scanner cannot read (fail closed). An HTML page whose Content-Type names
 * no charset is read in the charsets its `<meta>` tags declare (`meta-charset.ts`), as a browser
 * reads it.
 */
import {metaCharsets} from './meta-charset.js'
import {parseContentType} from '../canonical/index.js'
import {isXmlMediaType, xmlEncoding} from './xml-encoding.js'

const {isAscii} = process.getBuiltinModule('node:buffer') as typeof import('node:buffer')

export type DeclaredText =
  /** No charset, UTF-8, or an ASCII-compatible one over ASCII bytes: the UTF-8 reading is the text. */
  | {readonly kind: 'same'}
  | {readonly kind: 'text'; readonly texts: readonly string[]}
  /** A declared charset that cannot be decoded here (EBCDIC, UTF-7, UTF-32 …); its name when it is a plain label. */
  | {readonly kind: 'unreadable'; readonly charset: string | null}

const SAME: DeclaredText = Object.freeze({kind: 'same'})

/** Encodings in which ASCII bytes do not simply read as ASCII (16-bit units, escape-switched sets). */
const NOT_ASCII_COMPATIBLE: ReadonlySet<string> = new Set(['utf-16le', 'utf-16be', 'iso-2022-jp'])

/** A charset label safe to name in a log line: a short token, nothing a client could hide a value in. */
const PLAIN_LABEL = /^[a-z0-9._:-]{1,40}$/

/**
 * The texts of `body` in each charset its Content-Type declares (a label twice is read both ways);
 * for an HTML page whose Content-Type declares none, in each charset its `<meta>` tags declare.
 */
export function declaredText(contentType: string, body: Uint8Array, opts: {readonly markup?: boolean; readonly xml?: boolean} = {}): DeclaredText {
  const labels = declaredLabels(contentType, body, opts.markup ?? true)
  // A byte-order mark decides the encoding before any label (WHATWG Encoding, "decode"): a browser
  // reads an FF FE page as UTF-16LE whatever its header says. The labels are read as well, for the
  // clients that honour the header instead.
  const bom = bomEncoding(body)
  if (bom !== null) labels.unshift(bom)
  // An XML document whose Content-Type names no charset declares its own (`xml-encoding.ts`).
  if (labels.length === 0 && opts.xml === true && isXmlMediaType(parseContentType(contentType).type)) {
    const own = xmlEncoding(body)
    if (own !== null) labels.push(own)
  }
  if (labels.length === 0) return SAME
  const texts: string[] = []
  for (const label of labels) {
    // The common label needs no decoder (one would be made per body).
    if (label === 'utf-8' || label === 'utf8') continue
    // `utf-16` honours a big-endian byte-order mark, as the readers that honour the label do.
    const decoder = decoderFor(label === 'utf-16' && body[0] === 0xfe && body[1] === 0xff ? 'utf-16be' : label)
    if (decoder === null) return {kind: 'unreadable', charset: PLAIN_LABEL.test(label) ? label : null}
    if (decoder.encoding === 'utf-8') continue
    if (!NOT_ASCII_COMPATIBLE.has(decoder.encoding) && isAscii(body)) continue
    texts.push(decoder.decode(body))
  }
  return texts.length === 0 ? SAME : {kind: 'text', texts}
}

/** The encoding a byte-order mark at the start of `body` names, or null. */
function bomEncoding(body: Uint8Array): string | null {
  if (body[0] === 0xff && body[1] === 0xfe) return 'utf-16le'
  if (body[0] === 0xfe && body[1] === 0xff) return 'utf-16be'
  return null
}

/** Whether the Content-Type's own `charset` parameters name anything but UTF-8 (no body, no markup read). */
export function declaresOtherCharset(contentType: string): boolean {
  return declaredLabels(contentType, EMPTY, false).some((l) => l !== 'utf-8' && l !== 'utf8')
}

const EMPTY = new Uint8Array(0)

/**
 * The charset labels (trimmed, lower-case, non-empty) the Content-Type declares, else (`markup`)
 * an HTML page's `<meta>` ones.
 */
function declaredLabels(contentType: string, body: Uint8Array, markup: boolean): string[] {
  const semi = contentType.indexOf(';')
  const labels: string[] = []
  if (semi >= 0) {
    for (const [k, v] of parseContentType(contentType).params) {
      const label = k === 'charset' ? v.trim().toLowerCase() : ''
      if (label !== '') labels.push(label)
    }
  }
  if (labels.length > 0 || !markup || (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase() !== 'text/html') return labels
  return metaCharsets(body)
}

/**
 * The global TextDecoder for a label, or null when this runtime does not know it. (The global, not
 * node:util's export: importing from node:util loads its other lazy built-ins into the MCP wrap,
 * which keeps its start-up to what it uses; test/e2e/startup-laziness.test.ts.)
 */
function decoderFor(label: string): InstanceType<typeof TextDecoder> | null {
  try {
    return new TextDecoder(label)
  } catch {
    return null
  }
}
