/**
 * multipart/* request bodies for DLP (§6.2 step 3, issue 10 item 4). The rule: every byte the
 * upstream will see is scanned, in its raw form and in every decoded form an upstream parser may
 * turn it into, or the body is refused. So the texts are the whole raw body; each part's whole
 * header block (every header, every parameter); each header parameter's value, RFC 2231
 * (`filename*=`, continuations) decoded; and each part's content, raw and — under
 * `Content-Transfer-Encoding: quoted-printable | base64` — decoded. An ambiguous framing (a
 * duplicated or extended `boundary` parameter) is refused: two parsers could split it differently.
 *
 * Hand-written rather than busboy & co.: those hand back field values and hide the framing, and
 * the point here is to account for the bytes around the values too and to refuse ambiguity.
 */
import {parseContentType} from '../canonical/index.js'
import {percentBytes} from './decoders.js'

/** The Content-Transfer-Encodings a part may name: the identities, and the two codings read here. */
const KNOWN_TRANSFER_ENCODINGS: ReadonlySet<string> = new Set(['7bit', '8bit', 'binary', 'quoted-printable', 'base64'])

export class MultipartError extends Error {}

export const MULTIPART_LIMITS = Object.freeze({maxParts: 100, maxFilenameBytes: 255, maxHeaderBytes: 8192, maxDepth: 2})

/** The one boundary of a multipart Content-Type; an absent, duplicated or RFC 2231 boundary is refused. */
export function multipartBoundary(params: ReadonlyArray<readonly [string, string]>): string {
  const b = params.filter(([k]) => k === 'boundary' || k.startsWith('boundary*'))
  if (b.length > 1 || b.some(([k]) => k !== 'boundary')) throw new MultipartError('ambiguous multipart boundary (duplicated boundary parameter)')
  const v = b[0]?.[1]
  if (v === undefined || v === '' || v.length > 70) throw new MultipartError('multipart body without a valid boundary')
  return v
}

/**
 * RFC 2231 parameters (`name*=charset'lang'%xx`, `name*0=`, `name*1*=`) joined and decoded;
 * plain parameters as they are. Both the raw and decoded values are returned as texts.
 */
export function decodeParamValues(params: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
  const plain: Array<[string, string]> = []
  const ext = new Map<string, Array<{n: number; v: string; encoded: boolean}>>()
  for (const [k, v] of params) {
    const m = /^([^*]+)\*(?:(\d{1,3})(\*)?)?$/.exec(k)
    if (m === null) {
      plain.push([k, v])
      continue
    }
    const base = m[1]!
    const n = m[2] === undefined ? 0 : Number(m[2])
    const encoded = m[2] === undefined || m[3] === '*'
    const list = ext.get(base) ?? []
    list.push({n, v, encoded})
    ext.set(base, list)
  }
  for (const [base, segs] of ext) {
    segs.sort((a, b) => a.n - b.n)
    let charset = 'utf-8'
    const bytes: Buffer[] = []
    segs.forEach((s, idx) => {
      let v = s.v
      if (idx === 0 && s.encoded) {
        const q1 = v.indexOf("'")
        const q2 = q1 < 0 ? -1 : v.indexOf("'", q1 + 1)
        if (q2 >= 0) {
          charset = v.slice(0, q1).toLowerCase() || 'utf-8'
          v = v.slice(q2 + 1)
        }
      }
      bytes.push(s.encoded ? percentBytes(v) : Buffer.from(v, 'utf8'))
    })
    const all = Buffer.concat(bytes)
    plain.push([base, charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii' ? all.toString('latin1') : all.toString('utf8')])
  }
  return plain
}

/** Quoted-printable (RFC 2045 §6.7): soft line breaks removed, `=XX` decoded, anything else kept. */
export function decodeQuotedPrintable(s: string): Buffer {
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (s[i] === '=') {
      if (s.startsWith('\r\n', i + 1)) {
        i += 2
        continue
      }
      if (s[i + 1] === '\n') {
        i += 1
        continue
      }
      const h = s.slice(i + 1, i + 3)
      if (/^[0-9a-fA-F]{2}$/.test(h)) {
        out.push(parseInt(h, 16))
        i += 2
        continue
      }
    }
    out.push(c & 0xff)
  }
  return Buffer.from(out)
}

function unfoldHeaders(block: string): Array<[string, string]> {
  const lines: string[] = []
  for (const raw of block.split(/\r?\n/)) {
    if ((raw.startsWith(' ') || raw.startsWith('\t')) && lines.length > 0) lines[lines.length - 1] += ' ' + raw.trim()
    else lines.push(raw)
  }
  const out: Array<[string, string]> = []
  for (const l of lines) {
    const colon = l.indexOf(':')
    if (colon <= 0) continue
    out.push([l.slice(0, colon).trim().toLowerCase(), l.slice(colon + 1).trim()])
  }
  return out
}

/**
 * `out` with the parts that name no charset read in the form's `_charset_` too. A value that is
 * not a plain label is a charset nobody can be sure of: the body is refused.
 */
function withFormCharset(out: string[], charset: string, parts: readonly string[], inCharset: PartCharsetReader): string[] {
  if (!/^[A-Za-z0-9._:-]{1,40}$/.test(charset)) throw new MultipartError('multipart _charset_ field cannot be scanned')
  for (const p of parts) out.push(...inCharset(`text/plain; charset=${charset}`, Buffer.from(p, 'latin1')))
  return out
}

const GZIP_MAGIC = [0x1f, 0x8b]

/** A part's bytes read in the charset its Content-Type declares: the readings that differ from UTF-8 (none when it declares none). */
export type PartCharsetReader = (contentType: string, bytes: Buffer) => readonly string[]

/**
 * A compressed part (issue 37 §7), read so it can be scanned: a `Content-Encoding` of gzip,
 * deflate or br, or gzip bytes whatever the labels say. Null when the part is not compressed.
 * Anything it cannot read — another encoding, corrupt data, more than `max` bytes once
 * inflated, or a compressed part inside it — refuses the body (fail closed).
 */
function decompressedPart(bytes: Buffer, encoding: string, max: number): Buffer | null {
  const gzipBytes = bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]
  const enc = encoding === '' || encoding === 'identity' ? (gzipBytes ? 'gzip' : '') : encoding
  if (enc === '') return null
  const opts = {maxOutputLength: Math.max(1, max)}
  let out: Buffer
  try {
    // node:zlib on first use only: the MCP wrap's start-up loads no built-in it does not need.
    const zlib = process.getBuiltinModule('node:zlib')
    if (enc === 'gzip' || enc === 'x-gzip') out = zlib.gunzipSync(bytes, opts)
    else if (enc === 'deflate') out = zlib.inflateSync(bytes, opts)
    else if (enc === 'br') out = zlib.brotliDecompressSync(bytes, opts)
    else throw new MultipartError(`multipart part with Content-Encoding ${JSON.stringify(enc)} cannot be scanned`)
  } catch (e) {
    if (e instanceof MultipartError) throw e
    throw new MultipartError('compressed multipart part cannot be read')
  }
  if (out.length >= 2 && out[0] === GZIP_MAGIC[0] && out[1] === GZIP_MAGIC[1]) throw new MultipartError('multipart part compressed twice')
  return out
}

/**
 * Texts to scan for a multipart body (the framing is parsed on latin1, byte for byte; texts are
 * re-decoded as UTF-8). Throws MultipartError on anything it cannot frame unambiguously. `values`,
 * when given, receives each part's content in order (decoded when it is transfer-encoded or
 * compressed; a nested multipart part's own parts instead): the field values the split-secret
 * pass joins, as it joins a form's. `inCharset`, when given, reads a part whose Content-Type
 * declares a charset in that charset (its readings other than UTF-8; it throws on one it cannot
 * read): a server that honours the part's label reads those words.
 */
export function multipartTexts(
  body: Buffer, params: ReadonlyArray<readonly [string, string]>, maxPartBytes: number, depth = 0, values?: string[], inCharset?: PartCharsetReader,
): string[] {
  const boundary = multipartBoundary(params)
  const text = body.toString('latin1')
  const utf8 = (s: string): string => Buffer.from(s, 'latin1').toString('utf8')
  const out: string[] = depth === 0 ? [body.toString('utf8')] : []
  // RFC 7578 §4.6: a `_charset_` field names the charset of the text parts that name none; those
  // parts' bytes (latin1) are kept until the closing delimiter, when every field has been seen.
  let formCharset = ''
  const unlabelled: string[] = []
  const delim = '--' + boundary
  let pos = text.indexOf(delim)
  if (pos < 0) throw new MultipartError('multipart boundary not found')
  let parts = 0
  for (;;) {
    pos += delim.length
    // Closing delimiter; preamble/epilogue are in the raw body text.
    if (text.startsWith('--', pos)) return inCharset === undefined || formCharset === '' ? out : withFormCharset(out, formCharset, unlabelled, inCharset)
    if (text.startsWith('\r\n', pos)) pos += 2
    else if (text.startsWith('\n', pos)) pos += 1
    else throw new MultipartError('malformed multipart delimiter')
    const crlf = text.indexOf('\r\n' + delim, pos)
    const next = crlf >= 0 ? crlf : text.indexOf('\n' + delim, pos)
    if (next < 0) throw new MultipartError('unterminated multipart part')
    if (++parts > MULTIPART_LIMITS.maxParts) throw new MultipartError('too many multipart parts')
    const part = text.slice(pos, next)
    let headEnd = part.indexOf('\r\n\r\n')
    let sepLen = 4
    if (headEnd < 0) {
      headEnd = part.indexOf('\n\n')
      sepLen = 2
    }
    if (headEnd < 0) throw new MultipartError('multipart part without headers')
    if (headEnd > MULTIPART_LIMITS.maxHeaderBytes) throw new MultipartError('multipart part headers too large')
    const headerBlock = part.slice(0, headEnd)
    const content = part.slice(headEnd + sepLen)
    if (content.length > maxPartBytes) throw new MultipartError('multipart part too large')
    out.push(utf8(headerBlock))
    let cte = ''
    let encoding = ''
    let nested: {type: string; params: Array<[string, string]>} | null = null
    let partType = ''
    let fieldName = ''
    for (const [name, value] of unfoldHeaders(utf8(headerBlock))) {
      const ct = parseContentType(value)
      const values = decodeParamValues(ct.params)
      for (const [k, v] of values) {
        if (name === 'content-disposition' && k === 'name') fieldName = v
        if ((k === 'filename') && Buffer.byteLength(v) > MULTIPART_LIMITS.maxFilenameBytes) throw new MultipartError('multipart filename too long')
        out.push(v)
      }
      if (name === 'content-transfer-encoding') cte = value.trim().toLowerCase()
      if (name === 'content-encoding') encoding = value.trim().toLowerCase()
      if (name === 'content-type') {
        partType = value
        if (ct.type.startsWith('multipart/')) nested = ct
      }
    }
    // A coding this reader does not undo (x-uuencode, …) is one an upstream parser may: the part
    // cannot be scanned as the upstream reads it, so the body is refused (fail closed).
    if (cte !== '' && !KNOWN_TRANSFER_ENCODINGS.has(cte)) throw new MultipartError(`multipart part with Content-Transfer-Encoding ${JSON.stringify(cte.slice(0, 40))} cannot be scanned`)
    out.push(utf8(content))
    let value = out.at(-1)!
    // The part's bytes once transfer-decoded and inflated (latin1: one char per byte).
    let decoded = content
    if (cte === 'quoted-printable') {
      const b = decodeQuotedPrintable(content)
      out.push((value = b.toString('utf8')))
      decoded = b.toString('latin1')
    } else if (cte === 'base64') {
      const b = Buffer.from(content.replace(/[\r\n\t ]/g, ''), 'base64')
      out.push((value = b.toString('utf8')))
      decoded = b.toString('latin1')
    }
    const inflated = decompressedPart(Buffer.from(content, 'latin1'), encoding, maxPartBytes)
    if (inflated !== null) {
      out.push((value = inflated.toString('utf8')))
      decoded = inflated.toString('latin1')
    }
    if (nested !== null) {
      if (depth + 1 >= MULTIPART_LIMITS.maxDepth) throw new MultipartError('multipart nested too deeply')
      out.push(...multipartTexts(Buffer.from(content, 'latin1'), nested.params, maxPartBytes, depth + 1, values, inCharset))
    } else {
      // Only a part whose own Content-Type names a charset is read again.
      for (const t of inCharset !== undefined && partType.includes(';') ? inCharset(partType, Buffer.from(decoded, 'latin1')) : []) out.push((value = t))
      values?.push(value)
      if (fieldName === '_charset_') formCharset = value.trim()
      else if (inCharset !== undefined && !/;\s*charset\s*=/i.test(partType)) unlabelled.push(decoded)
    }
    pos = next + (text.startsWith('\r\n', next) ? 2 : 1)
  }
}
