/**
 * A text's UTF-16 code units in a typed array, for the scanner's long walks over a text (issue
 * 36): on this runtime a loop of `charCodeAt` over a 64 KiB text costs about three times a loop
 * over a typed array holding the same units, copy included (≈ 1.8 against ≈ 0.6 ns a unit), so
 * a walk that reads most of a body's units copies them first.
 */

/** Texts shorter than this are copied by a loop: the native copy's call costs more. */
const SHORT_COPY = 64
/** The largest scratch `unitsOf` keeps between calls (texts up to 512 Ki units). */
const KEEP_BYTES = 1 << 20

/** Writes `s`'s UTF-16 units (lone surrogates as they are) into `view` from unit `at`; `view` views `scratch` from its start. */
export function copyUnits(s: string, scratch: Buffer, view: Uint16Array, at = 0): void {
  const len = s.length
  if (len < SHORT_COPY) for (let i = 0; i < len; i++) view[at + i] = s.charCodeAt(i)
  else scratch.write(s, 2 * at, 'utf16le')
}

let scratch: Buffer | null = null
let view: Uint16Array = new Uint16Array(0)

/**
 * An array whose first `s.length + tail.length` entries are the code units of `s + tail`
 * (`units[i] === (s + tail).charCodeAt(i)`; the concatenation is never made); it may be longer.
 * One scratch serves every caller: the units are valid until the next call, so a caller reads
 * them without calling other scanner code in between.
 */
export function unitsOf(s: string, tail = ''): Uint16Array {
  const n = s.length + tail.length
  let b = scratch
  let v = view
  if (b === null || v.length < n) {
    b = Buffer.allocUnsafeSlow(Math.max(2 * n, 8192))
    v = new Uint16Array(b.buffer, 0, b.length >> 1)
    if (b.length <= KEEP_BYTES) {
      scratch = b
      view = v
    }
  }
  copyUnits(s, b, v)
  if (tail !== '') copyUnits(tail, b, v, s.length)
  return v
}
