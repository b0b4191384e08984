/**
 * Media policy (§4.7, enabled by default) for buffered fetch and forward responses. The media
 * type is the parsed `Content-Type`; generic types are sniffed from the first 512 bytes (a
 * subset of the WHATWG / Go `DetectContentType` signatures: the ones that decide a verdict
 * here). Audio and video are blocked by default; images must be an allowed type and size, and
 * JPEG/PNG metadata segments are removed (a parse error blocks).
 */
export interface MediaPolicySettings {
  readonly enabled: boolean
  readonly stripImages: boolean
  readonly stripAudio: boolean
  readonly stripVideo: boolean
  readonly allowedImageTypes: readonly string[]
  readonly stripImageMetadata: boolean
  readonly maxImageBytes: number
}

export type MediaOutcome =
  | {readonly kind: 'pass'; readonly mediaType: string; readonly body: Buffer; readonly exposure: boolean}
  | {readonly kind: 'block'; readonly mediaType: string; readonly detail: string}

const GENERIC = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/binary', 'application/unknown'])

export function parseMediaType(contentType: string): string {
  // What precedes the first ';' (no array of the parts: this runs on every buffered response).
  const semi = contentType.indexOf(';')
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

function startsWith(b: Buffer, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false
  return true
}

/** Whether `b` holds the ASCII `sig` at `at` (compared byte by byte: no slice, no string). */
function hasAscii(b: Buffer, sig: string, at = 0): boolean {
  if (b.length < at + sig.length) return false
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig.charCodeAt(i)) return false
  return true
}

/** Byte signatures of `sniffMediaType`, built once (not an array literal per call). */
const PNG_SIG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]
const JPEG_SIG = [0xff, 0xd8, 0xff]
const BMP_SIG = [0x42, 0x4d]
const ICO_SIG = [0x00, 0x00, 0x01, 0x00]
const CUR_SIG = [0x00, 0x00, 0x02, 0x00]
const WEBM_SIG = [0x1a, 0x45, 0xdf, 0xa3]
const ZIP_SIG = [0x50, 0x4b, 0x03, 0x04]
const GZIP_SIG = [0x1f, 0x8b, 0x08]

/**
 * Signature sniffing over the first 512 bytes. Byte comparisons in place: it runs on every
 * buffered response, and slicing and decoding each candidate signature was most of its cost
 * (bench: proxy; the slicing version is the oracle of test/unit/proxy/relay-hot-path.test.ts).
 */
export function sniffMediaType(body: Buffer): string {
  const b = body.length > 512 ? body.subarray(0, 512) : body
  if (startsWith(b, PNG_SIG)) return 'image/png'
  if (startsWith(b, JPEG_SIG)) return 'image/jpeg'
  if (hasAscii(b, 'GIF87a') || hasAscii(b, 'GIF89a')) return 'image/gif'
  if (hasAscii(b, 'RIFF') && hasAscii(b, 'WEBP', 8)) return 'image/webp'
  if (hasAscii(b, 'RIFF') && hasAscii(b, 'WAVE', 8)) return 'audio/wave'
  if (hasAscii(b, 'RIFF') && hasAscii(b, 'AVI ', 8)) return 'video/avi'
  if (startsWith(b, BMP_SIG)) return 'image/bmp'
  if (startsWith(b, ICO_SIG) || startsWith(b, CUR_SIG)) return 'image/x-icon'
  if (hasAscii(b, 'ID3')) return 'audio/mpeg'
  if (hasAscii(b, 'OggS')) return 'application/ogg'
  if (hasAscii(b, 'fLaC')) return 'audio/flac'
  if (startsWith(b, WEBM_SIG)) return 'video/webm'
  if (b.length >= 12 && hasAscii(b, 'ftyp', 4)) return 'video/mp4'
  if (hasAscii(b, '%PDF-')) return 'application/pdf'
  if (startsWith(b, ZIP_SIG)) return 'application/zip'
  if (startsWith(b, GZIP_SIG)) return 'application/x-gzip'
  // Text if no binary control bytes (WHATWG "binary data byte" set).
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!
    if (c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f)) return 'application/octet-stream'
  }
  return 'text/plain; charset=utf-8'
}

/** JPEG: drop APP1–APP15 and COM segments before the scan data; APP0 (JFIF) stays. */
export function stripJpegMetadata(b: Buffer): Buffer | null {
  if (!startsWith(b, [0xff, 0xd8])) return null
  const out: Buffer[] = [b.subarray(0, 2)]
  let p = 2
  while (p < b.length) {
    if (b[p] !== 0xff) return null
    const marker = b[p + 1]
    if (marker === undefined) return null
    if (marker === 0xff) {
      p++
      continue
    }
    if (marker === 0xd9) {
      out.push(b.subarray(p))
      return Buffer.concat(out)
    }
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      out.push(b.subarray(p, p + 2))
      p += 2
      continue
    }
    if (p + 4 > b.length) return null
    const len = b.readUInt16BE(p + 2)
    if (len < 2 || p + 2 + len > b.length) return null
    if (marker === 0xda) {
      // Start of scan: everything after is entropy-coded data up to EOI.
      out.push(b.subarray(p))
      return Buffer.concat(out)
    }
    const drop = (marker >= 0xe1 && marker <= 0xef) || marker === 0xfe
    if (!drop) out.push(b.subarray(p, p + 2 + len))
    p += 2 + len
  }
  return null
}

const PNG_METADATA = new Set(['tEXt', 'zTXt', 'iTXt', 'eXIf', 'tIME'])

/** PNG: drop text, EXIF and time chunks; every chunk boundary is checked. */
export function stripPngMetadata(b: Buffer): Buffer | null {
  if (!startsWith(b, PNG_SIG)) return null
  const out: Buffer[] = [b.subarray(0, 8)]
  let p = 8
  while (p + 12 <= b.length) {
    const len = b.readUInt32BE(p)
    const type = b.subarray(p + 4, p + 8).toString('latin1')
    const end = p + 12 + len
    if (len > 0x7fffffff || end > b.length) return null
    if (!PNG_METADATA.has(type)) out.push(b.subarray(p, end))
    p = end
    if (type === 'IEND') return Buffer.concat(out)
  }
  return null
}

/** Sniffed types that are media the policy rules on (a signature match, not a declared header). */
function isSniffedMedia(t: string): boolean {
  return t.startsWith('image/') || t.startsWith('audio/') || t.startsWith('video/') || t === 'application/ogg'
}

/**
 * The media type the policy rules on: a recognised media signature wins over the declared type
 * (the header is the server's choice — issue 10 item 1); a generic declared type is sniffed; any
 * other declared type stands.
 */
export function effectiveMediaType(contentType: string, body: Buffer): string {
  const declared = parseMediaType(contentType)
  const sniffed = parseMediaType(sniffMediaType(body))
  if (isSniffedMedia(sniffed) || GENERIC.has(declared)) return sniffed
  return declared
}

export function applyMediaPolicy(s: MediaPolicySettings, contentType: string, body: Buffer): MediaOutcome {
  const mediaType = effectiveMediaType(contentType, body)
  if (!s.enabled) return {kind: 'pass', mediaType, body, exposure: false}
  if (mediaType.startsWith('audio/') || mediaType === 'application/ogg') {
    return s.stripAudio ? {kind: 'block', mediaType, detail: 'media_policy: audio stripped'} : {kind: 'pass', mediaType, body, exposure: true}
  }
  if (mediaType.startsWith('video/')) {
    return s.stripVideo ? {kind: 'block', mediaType, detail: 'media_policy: video stripped'} : {kind: 'pass', mediaType, body, exposure: true}
  }
  if (!mediaType.startsWith('image/')) return {kind: 'pass', mediaType, body, exposure: false}
  if (s.stripImages) return {kind: 'block', mediaType, detail: 'media_policy: image stripped'}
  if (!s.allowedImageTypes.map((t) => t.toLowerCase()).includes(mediaType)) {
    return {kind: 'block', mediaType, detail: `media_policy: image type "${mediaType}" not in allowed list`}
  }
  if (body.length > s.maxImageBytes) return {kind: 'block', mediaType, detail: `media_policy: image size ${body.length} exceeds limit ${s.maxImageBytes}`}
  if (s.stripImageMetadata && (mediaType === 'image/jpeg' || mediaType === 'image/png')) {
    const stripped = mediaType === 'image/jpeg' ? stripJpegMetadata(body) : stripPngMetadata(body)
    if (stripped === null) return {kind: 'block', mediaType, detail: `media_policy: ${mediaType} could not be parsed to strip metadata`}
    return {kind: 'pass', mediaType, body: stripped, exposure: true}
  }
  return {kind: 'pass', mediaType, body, exposure: true}
}

/** Which responses the forward proxy must buffer for the media policy (the rest can stream). */
export function mediaNeedsBody(s: MediaPolicySettings, contentType: string): boolean {
  if (!s.enabled) return false
  const t = parseMediaType(contentType)
  return GENERIC.has(t) || t.startsWith('image/') || t.startsWith('audio/') || t.startsWith('video/') || t === 'application/ogg'
}

export function mediaSettingsFromConfig(m: {
  enabled: boolean; strip_images: boolean; strip_audio: boolean; strip_video: boolean; allowed_image_types: string[];
  strip_image_metadata: boolean; max_image_bytes: number;
}): MediaPolicySettings {
  return {
    enabled: m.enabled, stripImages: m.strip_images, stripAudio: m.strip_audio, stripVideo: m.strip_video,
    allowedImageTypes: m.allowed_image_types, stripImageMetadata: m.strip_image_metadata, maxImageBytes: m.max_image_bytes,
  }
}
