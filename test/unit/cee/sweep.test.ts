import assert from 'node:assert/strict'
import {test} from 'node:test'
import {CrossRequestDetector, EntropyBudget, FragmentBuffer, SWEEP_SLICE, type CeeSettings, type TextDlp} from '../../../src/plugins/cee/index.js'

const none: TextDlp = () => ({matches: [], warnings: []})
const WINDOW = 1000

function settings(): CeeSettings {
  return {
    enabled: true,
    action: 'block',
    entropy: {enabled: true, bitsPerWindow: 1e9, windowMs: WINDOW, action: 'warn', exemptDomains: []},
    fragments: {enabled: true, maxBufferBytes: 64, windowMs: WINDOW},
  }
}

/** Seeded LCG (deterministic runs). */
function rng(seed: number): () => number {
  let x = seed >>> 0
  return () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return x / 2 ** 32
  }
}

/**
 * Random traffic: keys, streams and times (some expired by `at`, some not). Every values stream
 * has entropy, so a request leaves its key non-empty (a zero-bit request on an expired key would
 * leave an empty window that a slice reached later drops and the one-shot sweep, run before it,
 * does not — the same state a moment later, not at the same moment).
 */
function traffic(seed: number, n: number): Array<{key: string; values: string; keys: string; at: number}> {
  const r = rng(seed)
  return Array.from({length: n}, (_, i) => ({key: `k${Math.floor(r() * 250)}`, values: 'ab'.repeat(1 + Math.floor(r() * 20)), keys: r() < 0.5 ? '' : 'kk', at: Math.floor((i / n) * 3 * WINDOW)}))
}

/** Everything a sweep can change: key sets, fragment bytes, and per key its entropy total and fragment count. */
function state(d: CrossRequestDetector): unknown {
  const e = d.entropy as unknown as {keys: {entries(): Iterable<[string, {total: number; head: number; entries: unknown[]}]>}}
  const f = d.fragments as unknown as {keys: {entries(): Iterable<[string, {frags: unknown[]; total: number}]>}}
  return {
    stats: d.stats(),
    entropy: [...e.keys.entries()].map(([k, w]) => [k, w.total, w.entries.length - w.head]),
    fragments: [...f.keys.entries()].map(([k, x]) => [k, x.frags.length, x.total]),
  }
}

test('sweep in slices: the same keys, bytes and entries remain as after the one-shot sweep (the oracle), with requests between slices', () => {
  for (let seed = 1; seed <= 6; seed++) {
    const reqs = traffic(seed, 3000)
    const later = traffic(seed + 100, 300)
    // Seeds 4–6: a cap below the keys in use, so requests between slices also evict keys.
    const cap = seed <= 3 ? 600 : 300
    const [oracle, sliced] = [new CrossRequestDetector(settings(), undefined, cap), new CrossRequestDetector(settings(), undefined, cap)]
    for (const d of [oracle, sliced]) for (const q of reqs) d.admit(q.key, 'h', {values: q.values, keys: q.keys}, none, q.at, true)
    const now = 3 * WINDOW + 200
    // Oracle: one sweep, then the later requests. Sliced: the later requests arrive between
    // slices of 7 keys (already-visited keys, keys not yet reached, new keys).
    const before = oracle.stats().fragment_buffer_active
    oracle.sweep(now)
    if (cap === 600) assert.ok(oracle.stats().fragment_buffer_active < before, 'the sweep dropped keys')
    const passes = [sliced.entropy!.sweepPass(), sliced.fragments!.sweepPass()]
    let i = 0
    for (let done = false; !done; ) {
      done = passes.map((p) => p.step(7, now)).every(Boolean)
      for (let j = 0; j < 3 && i < later.length; j++, i++) sliced.admit(later[i]!.key, 'h', {values: later[i]!.values, keys: later[i]!.keys}, none, now, true)
    }
    for (; i < later.length; i++) sliced.admit(later[i]!.key, 'h', {values: later[i]!.values, keys: later[i]!.keys}, none, now, true)
    for (const q of later) oracle.admit(q.key, 'h', {values: q.values, keys: q.keys}, none, now, true)
    assert.deepEqual(state(sliced), state(oracle), `seed ${seed}`)
  }
})

test('a pass step visits at most its slice of keys; a finished pass stays finished', () => {
  const b = new EntropyBudget(1e9, WINDOW, 100)
  for (let k = 0; k < 20; k++) b.record(`k${k}`, ['abcdefgh'], 0)
  const pass = b.sweepPass()
  assert.equal(pass.step(8, 5 * WINDOW), false)
  assert.equal(b.activeKeys, 12, 'eight keys expired and left')
  assert.equal(pass.step(8, 5 * WINDOW), false)
  assert.equal(pass.step(8, 5 * WINDOW), true)
  assert.equal(b.activeKeys, 0)
  assert.equal(pass.step(8, 5 * WINDOW), true)
  const f = new FragmentBuffer(64, WINDOW, 100)
  for (let k = 0; k < 5; k++) f.append(`k${k}`, 'abcd', 0)
  f.append('k9', 'abcd', 4 * WINDOW)
  const fp = f.sweepPass()
  assert.equal(fp.step(3, 4 * WINDOW), false)
  assert.equal(f.totalBytes, 12)
  assert.equal(fp.step(3, 4 * WINDOW), true)
  assert.deepEqual([f.activeKeys, f.totalBytes], [1, 4], 'the fresh key stays')
})

test('the detector sweeps in slices across event-loop turns (requests in between), ending where the one-shot sweep does', async () => {
  const n = 3 * SWEEP_SLICE + 5
  const [oracle, sliced] = [new CrossRequestDetector(settings(), undefined, 2 * n), new CrossRequestDetector(settings(), undefined, 2 * n)]
  for (const d of [oracle, sliced]) for (let k = 0; k < n; k++) d.admit(`k${k}`, 'h', {values: 'abcdefgh', keys: k % 2 === 0 ? 'kk' : ''}, none, k % 3 === 0 ? 0 : 2 * WINDOW, true)
  oracle.sweep(2 * WINDOW + 500)
  let turns = 0
  const ticker = setInterval(() => {}, 1000) // keeps the loop alive while the unref'd slices run
  const between = setImmediate(function tick() {
    turns++
  })
  const slices = await new Promise<number>((resolve) => sliced.sweepInSlices(() => 2 * WINDOW + 500, resolve))
  clearInterval(ticker)
  clearImmediate(between)
  assert.ok(slices >= 4, `${slices} slices (entropy ${n} keys, fragments ${n + Math.ceil(n / 2)} keys)`)
  assert.ok(turns >= 1, 'other callbacks ran between slices')
  assert.deepEqual(state(sliced), state(oracle))
  // A second call while a pass runs does nothing; stop() cancels the pass.
  for (let k = 0; k < n; k++) sliced.admit(`x${k}`, 'h', {values: 'abcdefgh', keys: ''}, none, 0, true)
  let ended = 0
  sliced.sweepInSlices(() => 2 * WINDOW + 500, () => ended++)
  sliced.sweepInSlices(() => 2 * WINDOW + 500, () => ended++)
  sliced.stop()
  await new Promise((r) => setTimeout(r, 20))
  assert.equal(ended, 0, 'the stopped pass never finished')
})
