import {randomBytes, randomFillSync} from 'node:crypto'

/**
 * A source of cryptographically random bytes that refills one buffer with `randomFillSync` and
 * hands out fresh copies of successive slices, so a receipt id (16 bytes per decision) does not
 * pay a call into the CSPRNG each time. Every byte is handed out once; requests larger than the
 * pool go straight to `randomBytes`.
 */
export function pooledRandom(poolBytes = 4096): (n: number) => Uint8Array {
  const pool = Buffer.allocUnsafe(poolBytes)
  let used = poolBytes
  return (n: number): Uint8Array => {
    if (n > poolBytes) return randomBytes(n)
    if (used + n > poolBytes) {
      randomFillSync(pool)
      used = 0
    }
    // Uint8Array#slice copies (Buffer#slice would return a view into the pool).
    const out = Uint8Array.prototype.slice.call(pool, used, used + n)
    used += n
    return out
  }
}
