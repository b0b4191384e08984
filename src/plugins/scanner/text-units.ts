/**
 * A text's UTF-16 code units in a typed array, for the scanner's walks over a text (issue 36):
 * on this runtime a loop of `charCodeAt` over a 64 KiB text costs about three times a loop over
 * a typed array holding the same units, copy included (≈ 1.8 against ≈ 0.6 ns a unit), so a
 * walk that reads most of a body's units copies them first. `copyUnits` is the one copy the
 * scanner's walks make (the HTML and JSON views, the confusable map, the pass-text builders).
 */

/** Whether a `Uint16Array` holds a unit's low byte first (as `utf16le` writes it). */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/** Texts shorter than this are copied by a loop: the native copy's call costs more. */
const SHORT_COPY = 64
/** The largest scratch `unitsOf` keeps between calls (texts up to 512 Ki units). */
const KEEP_UNITS = 1 << 19

/**
 * Writes `s`'s UTF-16 units (lone surrogates as they are) into `view` from unit `at` (the view
 * holds them): one native `utf16le` copy, or a loop for a short text or on a big-endian machine.
 */
export function copyUnits(s: string, view: Uint16Array, at = 0): void {
  const len = s.length
  if (len < SHORT_COPY || !LITTLE_ENDIAN) for (let i = 0; i < len; i++) view[at + i] = s.charCodeAt(i)
  else Buffer.from(view.buffer, view.byteOffset + 2 * at, 2 * len).write(s, 0, 2 * len, 'utf16le')
}

let scratch = new Uint16Array(0)

/**
 * An array whose first `s.length + tail.length` entries are the code units of `s + tail`
 * (`units[i] === (s + tail).charCodeAt(i)`; the concatenation is never made); it may be longer.
 * One scratch serves every caller: the units are valid until the next call, so a caller reads
 * them without calling other scanner code in between.
 */
export function unitsOf(s: string, tail = ''): Uint16Array {
  const n = s.length + tail.length
  let v = scratch
  if (v.length < n) {
    v = new Uint16Array(Math.max(n, 4096))
    if (v.length <= KEEP_UNITS) scratch = v
  }
  copyUnits(s, v)
  if (tail !== '') copyUnits(tail, v, s.length)
  return v
}
