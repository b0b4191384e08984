/**
 * The encoding an XML document gives itself when its Content-Type names no charset (XML 1.0
 * Appendix F, RFC 7303 §4.3): a byte-order mark, the byte pattern of `<?` in a 16- or 32-bit
 * encoding, or the `encoding="…"` of its XML declaration. An XML parser handed the bytes decodes
 * them so, whatever their UTF-8 reading shows.
 */

/** How far into a document its XML declaration is looked for. */
const DECLARATION_BYTES = 256

/** An encoding name as XML 1.0 §4.3.3 spells one (`EncName`). */
const ENC_NAME = /^[A-Za-z][A-Za-z0-9._-]*$/

/** The declaration's `encoding` pseudo-attribute (after `version`, before `?>`). */
const ENCODING_ATTR = /^<\?xml\s[^>]*?\bencoding\s*=\s*(?:"([^"]*)"|'([^']*)')/

/** `ebcdic`: not a TextDecoder label, so a document in it is one the scanner cannot read. */
const UNREADABLE = 'ebcdic'

/**
 * The charset label (lower-case) `body` declares for itself as an XML document, or null when it
 * declares none (or UTF-8). A 32-bit, EBCDIC or badly spelt encoding is returned as a label no
 * decoder knows, so it is refused as unreadable.
 */
export function xmlEncoding(body: Uint8Array): string | null {
  const [a, b, c, d] = [body[0], body[1], body[2], body[3]]
  if ((a === 0x00 && b === 0x00 && ((c === 0xfe && d === 0xff) || (c === 0x00 && d === 0x3c))) || (c === 0x00 && d === 0x00 && ((a === 0xff && b === 0xfe) || (a === 0x3c && b === 0x00)))) return 'utf-32'
  if ((a === 0xfe && b === 0xff) || (a === 0x00 && b === 0x3c && c === 0x00 && d === 0x3f)) return 'utf-16be'
  if ((a === 0xff && b === 0xfe) || (a === 0x3c && b === 0x00 && c === 0x3f && d === 0x00)) return 'utf-16le'
  // `<?xm` in EBCDIC.
  if (a === 0x4c && b === 0x6f && c === 0xa7 && d === 0x94) return UNREADABLE
  const start = a === 0xef && b === 0xbb && c === 0xbf ? 3 : 0
  if (start === 3) return null
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, DECLARATION_BYTES)).toString('latin1')
  const m = ENCODING_ATTR.exec(head)
  if (m === null) return null
  const name = m[1] ?? m[2] ?? ''
  if (!ENC_NAME.test(name)) return UNREADABLE
  const label = name.toLowerCase()
  return label === 'utf-8' || label === 'utf8' ? null : label
}

/** Whether a media type is XML (`text/xml`, `application/xml`, `…+xml`). */
export function isXmlMediaType(type: string): boolean {
  return type === 'text/xml' || type === 'application/xml' || type.endsWith('+xml')
}
