// Growing the learn pipeline's typed arrays and byte arenas (the compile's cell store, shadow's
// opportunity table): one growth policy for both.

/**
 * The size in bytes a store array grows to: twice its size (at least `bytes`), and from 1 MiB on
 * at least 33 MiB. The C allocator maps anything of 32 MiB or more on its own pages and unmaps it
 * when freed; an array between those sizes, once freed, raises its mapping threshold and then stays
 * in its heap, still resident: ≈ 60 MB of RSS at the signed body, compile's peak, on the realistic
 * corpus (bench: compile). Pages of the larger size that are never written are never resident.
 */
function grownBytes(current: number, bytes: number): number {
  const next = Math.max(bytes, current * 2)
  return next <= 1024 * 1024 ? next : Math.max(next, 33 * 1024 * 1024)
}

/** `a` with room for `n` elements: the same array, or a copy into a larger one (`grownBytes`). */
export function grown<T extends Float64Array | Int32Array | Uint32Array>(a: T, n: number): T {
  if (n <= a.length) return a
  const b = new (a.constructor as new (len: number) => T)(grownBytes(a.byteLength, n * a.BYTES_PER_ELEMENT) / a.BYTES_PER_ELEMENT)
  b.set(a)
  return b
}

/** `buf` with room for `bytes` bytes: the same buffer, or a larger one holding its first `used` bytes (`grownBytes`). */
export function grownBuffer(buf: Buffer<ArrayBuffer>, used: number, bytes: number): Buffer<ArrayBuffer> {
  if (bytes <= buf.length) return buf
  const b = Buffer.alloc(grownBytes(buf.length, bytes))
  buf.copy(b, 0, 0, used)
  return b
}
