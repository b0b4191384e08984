import {test} from 'node:test'
import assert from 'node:assert/strict'
import {formatGoTime, fromEpochNanos, UtcNanoFormatter, uuidv7} from '../../../src/plugins/canonical/index.js'
import {pooledRandom} from '../../../src/plugins/signing/index.js'

test('UtcNanoFormatter renders exactly formatGoTime(fromEpochNanos(ns)), within a second and across seconds, days and years', () => {
  const f = new UtcNanoFormatter()
  const starts = [0n, 1_776_254_400_000_000_000n, 1_798_761_599_000_000_000n /* 2026-12-31T23:59:59Z */, -1_000_000_000n, 951_782_399_000_000_000n /* 2000-02-28T23:59:59Z */]
  const offsets = [0n, 1n, 10n, 100_000n, 120_000_000n, 999_999_999n, 1_000_000_000n, 1_000_000_001n, 86_400_000_000_000n, 500_000_000n]
  let seed = 12345
  const rand = (): bigint => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return BigInt(seed)
  }
  for (const s of starts) {
    for (const o of offsets) assert.equal(f.format(s + o), formatGoTime(fromEpochNanos(s + o)), `${s + o}`)
    for (let i = 0; i < 2000; i++) {
      const ns = s + rand() * 7n
      assert.equal(f.format(ns), formatGoTime(fromEpochNanos(ns)), `${ns}`)
    }
  }
})

/** The byte-wise construction uuidv7 used before its table form (the reference for equality). */
function uuidv7Reference(nowNanos: bigint, random: (n: number) => Uint8Array): string {
  const b = Buffer.from(random(16))
  const ms = nowNanos / 1_000_000n
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  b[6] = ((b[6] as number) & 0x0f) | 0x70
  b[8] = ((b[8] as number) & 0x3f) | 0x80
  const h = b.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

test('uuidv7 matches the byte-wise construction for random bytes and times (including pre-1970 and 48-bit overflow)', () => {
  const random = pooledRandom(64)
  for (const ns of [0n, 1n, 1_776_254_400_123_000_000n, -5_000_000n, (1n << 48n) * 1_000_000n + 7_000_000n, 281_474_976_710_655_999_999n]) {
    for (let i = 0; i < 200; i++) {
      const bytes = random(16)
      assert.equal(uuidv7(ns, () => bytes), uuidv7Reference(ns, () => bytes))
    }
  }
})

test('pooledRandom hands out fresh copies: distinct slices, never a view into the pool, large requests served', () => {
  const random = pooledRandom(32)
  const a = random(16)
  const b = random(16)
  assert.equal(a.length, 16)
  assert.notDeepEqual([...a], [...b])
  const aBefore = Uint8Array.from(a)
  const bBefore = Uint8Array.from(b)
  random(16) // refills the 32-byte pool: a view into it would change under a and b
  random(16)
  assert.deepEqual([...a], [...aBefore])
  assert.deepEqual([...b], [...bBefore])
  a.fill(0) // and writing to a handed-out copy never reaches the pool
  assert.notDeepEqual([...random(16)], new Array(16).fill(0))
  assert.equal(random(100).length, 100)
  // 4,000 ids' worth of bytes: no 16-byte slice repeats
  const seen = new Set<string>()
  for (let i = 0; i < 4000; i++) seen.add(Buffer.from(random(16)).toString('hex'))
  assert.equal(seen.size, 4000)
})
