import {inflateSync} from 'node:zlib'

// Minimal PNG reader for screenshot checks: 8-bit RGB or RGBA, non-interlaced (what Chromium
// writes). Returns the pixels as RGBA rows after undoing the per-row filters (RFC 2083 §6).

export interface Image {
  width: number
  height: number
  /** RGBA, 4 bytes per pixel. */
  rgba: Uint8Array
}

export function decodePng(buf: Buffer): Image {
  if (buf.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error('not a PNG')
  let off = 8
  let width = 0
  let height = 0
  let channels = 0
  const idat: Buffer[] = []
  while (off < buf.length) {
    const len = buf.readUInt32BE(off)
    const type = buf.subarray(off + 4, off + 8).toString('latin1')
    const data = buf.subarray(off + 8, off + 8 + len)
    if (type === 'IHDR') {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      const depth = data[8]
      const colour = data[9]
      if (depth !== 8 || (colour !== 2 && colour !== 6) || data[12] !== 0) throw new Error(`unsupported PNG: depth ${depth} colour ${colour}`)
      channels = colour === 6 ? 4 : 3
    } else if (type === 'IDAT') idat.push(data)
    else if (type === 'IEND') break
    off += 12 + len
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * channels
  const out = new Uint8Array(width * height * 4)
  let prev = new Uint8Array(stride)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    const cur = new Uint8Array(stride)
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? (cur[x - channels] as number) : 0
      const b = prev[x] as number
      const c = x >= channels ? (prev[x - channels] as number) : 0
      const v = line[x] as number
      let pred = 0
      if (filter === 1) pred = a
      else if (filter === 2) pred = b
      else if (filter === 3) pred = (a + b) >> 1
      else if (filter === 4) {
        const p = a + b - c
        const pa = Math.abs(p - a)
        const pb = Math.abs(p - b)
        const pc = Math.abs(p - c)
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
      }
      cur[x] = (v + pred) & 0xff
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4
      out[o] = cur[x * channels] as number
      out[o + 1] = cur[x * channels + 1] as number
      out[o + 2] = cur[x * channels + 2] as number
      out[o + 3] = channels === 4 ? (cur[x * channels + 3] as number) : 255
    }
    prev = cur
  }
  return {width, height, rgba: out}
}

/** Share of pixels that differ from the most common colour, and how many pixels have colour `rgb`. */
export function pixelStats(img: Image, rgb: [number, number, number]): {nonBackground: number; matching: number} {
  const counts = new Map<number, number>()
  let matching = 0
  for (let i = 0; i < img.rgba.length; i += 4) {
    const r = img.rgba[i] as number
    const g = img.rgba[i + 1] as number
    const b = img.rgba[i + 2] as number
    const k = (r << 16) | (g << 8) | b
    counts.set(k, (counts.get(k) ?? 0) + 1)
    if (Math.abs(r - rgb[0]) <= 2 && Math.abs(g - rgb[1]) <= 2 && Math.abs(b - rgb[2]) <= 2) matching++
  }
  const total = img.width * img.height
  const top = Math.max(...counts.values())
  return {nonBackground: (total - top) / total, matching}
}
