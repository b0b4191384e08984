/**
 * Where each code unit of a body's UTF-8 reading came from: the byte offsets behind
 * `body.toString('utf8')` when the body is not well-formed UTF-8, so that a cut made in that
 * reading (a `strip` of a binary body) can be made in the body's own bytes and every other byte
 * relayed as the origin sent it, not as U+FFFD.
 *
 * The reading is the WHATWG (Encoding Standard) UTF-8 decoder's, which V8 and Node implement: a
 * byte that cannot start a sequence, and each maximal subpart of an ill-formed sequence (a lead
 * byte and the continuation bytes that were still valid after it), reads as one U+FFFD, and the
 * byte that broke the sequence is read again. Written here, not taken from a library, because
 * the offsets are the point and no maintained decoder reports them. `utf8ReadingOffsets` checks
 * its own reading against Node's and answers null when they differ, so a runtime that reads
 * otherwise is never cut at the wrong bytes (the caller then blocks).
 */

/**
 * `offsets[i]`: the first byte of the character unit i belongs to (both units of a surrogate
 * pair give that character's first byte); `offsets[reading.length]` is the body's length. Null
 * when this walk's reading is not `reading`.
 */
export function utf8ReadingOffsets(body: Uint8Array, reading: string): Uint32Array | null {
  const n = body.length
  const offsets = new Uint32Array(reading.length + 1)
  let u = 0
  let i = 0
  while (i < n) {
    const b = body[i]!
    if (b < 0x80) {
      if (u >= reading.length || reading.charCodeAt(u) !== b) return null
      offsets[u++] = i++
      continue
    }
    let need = 0
    let lower = 0x80
    let upper = 0xbf
    let cp = 0
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1
      cp = b & 0x1f
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2
      cp = b & 0x0f
      if (b === 0xe0) lower = 0xa0
      if (b === 0xed) upper = 0x9f
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3
      cp = b & 0x07
      if (b === 0xf0) lower = 0x90
      if (b === 0xf4) upper = 0x8f
    }
    let j = i + 1
    let got = 0
    while (got < need && j < n && body[j]! >= lower && body[j]! <= upper) {
      cp = (cp << 6) | (body[j]! & 0x3f)
      lower = 0x80
      upper = 0xbf
      j++
      got++
    }
    if (need === 0 || got < need) {
      // One U+FFFD for the lead byte and its valid continuation bytes; the breaking byte is read next.
      if (u >= reading.length || reading.charCodeAt(u) !== 0xfffd) return null
      offsets[u++] = i
      i = j
      continue
    }
    if (cp >= 0x10000) {
      if (u + 1 >= reading.length || reading.codePointAt(u) !== cp) return null
      offsets[u++] = i
      offsets[u++] = i
    } else {
      if (u >= reading.length || reading.charCodeAt(u) !== cp) return null
      offsets[u++] = i
    }
    i = j
  }
  if (u !== reading.length) return null
  offsets[u] = n
  return offsets
}
