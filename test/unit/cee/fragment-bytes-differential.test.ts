/**
 * Fragments stored as UTF-8 bytes (round 9, issue 15) against the buffer that stored them as
 * strings (`fragment-buffer-strings.ts`, the replaced code kept as the oracle). Both are fed the
 * same operations — appends of strings and Buffers to several keys, the clock moving (expiry),
 * small and large `max_buffer_bytes` (eviction of old fragments, cut of oversized ones), a key cap
 * below the number of keys (LRU eviction), sweeps and clears — and after every fragment must
 * agree on: the scan's verdict, with the window proof (`textDlpOf`) and with the plain full pass;
 * every text the DLP was handed, in order (whole windows and each fragment's own pass: so the
 * decoded texts are equal unit for unit, and the proof proves exactly the same windows); the byte
 * gauge and the active key count. Corpus: the window-proof tests' (secrets split at every point
 * behind fillers, base64 at every alignment, seed phrases, random multi-way splits, clean traffic
 * of many shapes) plus non-ASCII, lone surrogates and invalid UTF-8 bytes.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {extractPayload, FragmentBuffer, textDlpOf, type TextDlp} from '../../../src/plugins/cee/index.js'
import {createScanner, defaultScannerSettings, type Scanner} from '../../../src/plugins/scanner/index.js'
import {urlOfSize} from '../../../bench/cee.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, lowerAlnum, phraseFromEntropy, prng, syntheticWordList, upperAlnum} from '../scanner/fixtures.js'
import {StringFragmentBuffer} from './fragment-buffer-strings.js'

const list = syntheticWordList()
const settings = defaultScannerSettings()
settings.seedPhrase.wordList = list
const scanner: Scanner = createScanner(settings)

/** A text DLP that records every text it is handed (`engine`: the proof on). */
function spy(withEngine: boolean): {dlp: TextDlp; log: string[]} {
  const log: string[] = []
  const f = (t: string): ReturnType<TextDlp> => {
    log.push(t)
    return scanner.scanTextForDlp(t)
  }
  return {dlp: withEngine ? Object.assign(f, {engine: scanner.dlp}) : f, log}
}

interface Shape {
  readonly maxBytes: number
  readonly windowMs: number
  readonly cap: number
  readonly keys: number
}

interface Tally {
  steps: number
  found: number
}

/** One operation sequence through both buffers (one pair scanned with the proof, one with the full pass). */
function run(parts: ReadonlyArray<string | Buffer>, shape: Shape, seed: number, label: string, t: Tally): void {
  const r = prng(seed)
  const pairs = [true, false].map((engine) => ({
    neu: new FragmentBuffer(shape.maxBytes, shape.windowMs, shape.cap), old: new StringFragmentBuffer(shape.maxBytes, shape.windowMs, shape.cap),
    a: spy(engine), b: spy(engine),
  }))
  let now = 0
  parts.forEach((data, i) => {
    now += Math.floor(r() * (shape.windowMs / 3))
    const key = `k${Math.floor(r() * shape.keys)}`
    const op = r()
    for (const p of pairs) {
      if (op < 0.03) {
        p.neu.sweep(now)
        p.old.sweep(now)
      } else if (op < 0.05) assert.equal(p.neu.clear(key), p.old.clear(key), `${label}: clear at ${i}`)
      p.neu.append(key, data, now)
      p.old.append(key, data, now)
      const got = p.neu.scan(key, now, p.a.dlp)
      const want = p.old.scan(key, now, p.b.dlp)
      assert.equal(got, want, `${label}: verdict at fragment ${i}`)
      assert.deepEqual(p.a.log, p.b.log, `${label}: texts the DLP was handed at fragment ${i}`)
      assert.equal(p.neu.totalBytes, p.old.totalBytes, `${label}: bytes at fragment ${i}`)
      assert.equal(p.neu.activeKeys, p.old.activeKeys, `${label}: keys at fragment ${i}`)
      p.a.log.length = 0
      p.b.log.length = 0
      if (want !== null) t.found++
    }
    t.steps++
  })
}

const SHAPES: readonly Shape[] = [
  {maxBytes: 65536, windowMs: 60_000, cap: 4, keys: 1},
  {maxBytes: 96, windowMs: 1000, cap: 4, keys: 1},
  {maxBytes: 256, windowMs: 1000, cap: 2, keys: 3},
  {maxBytes: 65536, windowMs: 600, cap: 3, keys: 2},
]

const fillers = (s: number): string[] => [extractPayload(urlOfSize(256, s)).values, `alpha-${s}bravo-${s * 7}`]

function secrets(s: number): string[] {
  const base = [awsKeyId(s), githubToken(s), anthropicKey(s), j('xo', 'xb-', lowerAlnum(20, s)), '4111111111111111', j('gl', 'pat-', alnum(22, s))]
  return [...base, Buffer.from(githubToken(s)).toString('base64'), Buffer.from(anthropicKey(s)).toString('base64url'), Buffer.from(anthropicKey(s)).toString('hex')]
}

test('fragment bytes: secrets split at every point behind clean fillers — same verdicts, texts, bytes and keys as the string buffer', () => {
  const t: Tally = {steps: 0, found: 0}
  for (let s = 1; s <= 2; s++) {
    for (const secret of secrets(s)) {
      for (let cut = 1; cut < secret.length; cut++) {
        const shape = SHAPES[cut % SHAPES.length]!
        run([...fillers(s), secret.slice(0, cut), secret.slice(cut)], shape, s * 1000 + cut, `secret ${s} cut ${cut}`, t)
      }
    }
  }
  assert.ok(t.found > 200, `split secrets were reported (${t.found} of ${t.steps})`)
})

test('fragment bytes: base64 at every alignment and seed phrases split at every point', () => {
  const t: Tally = {steps: 0, found: 0}
  for (let s = 1; s <= 3; s++) {
    for (const secret of [githubToken(s), awsKeyId(s), phraseFromEntropy(list, Buffer.from(alnum(16, s)))]) {
      for (const lead of ['', 'x', 'xy', 'xyz']) {
        const enc = Buffer.from(`${lead}note ${secret} end`).toString(s % 2 === 0 ? 'base64' : 'base64url').replace(/=+$/, '')
        for (let cut = 1; cut < enc.length; cut += 2) run([enc.slice(0, cut), enc.slice(cut)], SHAPES[(cut >> 1) % SHAPES.length]!, cut, `b64 ${s} ${lead.length} ${cut}`, t)
      }
    }
    const phrase = phraseFromEntropy(list, Buffer.from(alnum(16, s)))
    for (const form of [phrase, phrase.split(' ').join('-'), Buffer.from(phrase).toString('base64url')]) {
      for (let cut = 1; cut < form.length; cut += 2) run([`lead${s} `, form.slice(0, cut), form.slice(cut)], SHAPES[0]!, cut, `seed ${s} cut ${cut}`, t)
    }
    run(phrase.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`)), SHAPES[0]!, s, `seed ${s} per word`, t)
  }
  assert.ok(t.found > 100, `reported (${t.found} of ${t.steps})`)
})

test('fragment bytes: random multi-way splits, clean traffic, non-ASCII, lone surrogates, invalid UTF-8, oversized fragments, expiry, caps and evictions', () => {
  const t: Tally = {steps: 0, found: 0}
  const r = prng(90210)
  const bytes = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
  const cutInto = (s: string, n: number): string[] => {
    const points = new Set<number>()
    while (points.size < Math.min(n, s.length) - 1) points.add(1 + Math.floor(r() * (s.length - 1)))
    const at = [0, ...[...points].sort((x, y) => x - y), s.length]
    return at.slice(1).map((e, i) => s.slice(at[i], e))
  }
  for (let s = 1; s <= 8; s++) {
    const seq: Array<string | Buffer> = []
    for (let k = 0; k < 4; k++) {
      seq.push(extractPayload(urlOfSize(2048, s * 10 + k)).values, extractPayload(urlOfSize(1024, s * 10 + k)).keys)
      seq.push(...cutInto(secrets(s + k)[Math.floor(r() * 9)]!, 2 + Math.floor(r() * 4)))
    }
    seq.push(alnum(60, s), 'hello world how are you', ' today my friend', 'https://example.com/a?b=c', '{"k":"v"}', '1234567890', 'ABCDEFGHIJKLMNOP', 'QRSTUVWXYZ234567')
    seq.push('50%25 off', 'a+b', 'c%2Bd', 'héllo wörld', 'ﬁle ＡＢＣ', '日本語', `é€\ud83d\ude00${'ü'.repeat(40)}`, `x\ud83d`, `\ude00${lowerAlnum(5, s)}`, '\udc00lone')
    seq.push(upperAlnum(40, s), lowerAlnum(40, s), '==', bytes(30), Buffer.from(githubToken(s).slice(0, 11)), Buffer.from(githubToken(s).slice(11)))
    seq.push(Buffer.concat([Buffer.from('ab'), Buffer.from([0xe2, 0x82])]), Buffer.from([0xac, 0x41]), 'ü'.repeat(60), Buffer.from('ü'.repeat(70)))
    seq.push(...cutInto(Buffer.from(`note ${anthropicKey(s)} end`).toString('base64url'), 3))
    // Shuffled, so every shape of fragment meets every state of the window.
    for (let i = seq.length - 1; i > 0; i--) {
      const k = Math.floor(r() * (i + 1))
      ;[seq[i], seq[k]] = [seq[k]!, seq[i]!]
    }
    for (const shape of SHAPES) run(seq, shape, s, `mixed ${s} ${shape.maxBytes}/${shape.windowMs}/${shape.cap}/${shape.keys}`, t)
  }
  assert.ok(t.steps > 1000, `steps ${t.steps}`)
})

test('fragment bytes: the text of a stored fragment is not held as a string once its scan is over', () => {
  const buf = new FragmentBuffer(65536, 60_000, 4)
  const dlp = textDlpOf(scanner)
  for (let r = 0; r < 3; r++) {
    buf.append('k', extractPayload(urlOfSize(2048, r)).values, r)
    buf.scan('k', r, dlp)
  }
  const frags = (buf as unknown as {keys: {peek(k: string): {frags: Array<{text: string | null; utf8: ArrayBuffer | null; size: number}>}}}).keys.peek('k').frags
  for (const f of frags) {
    assert.equal(f.text, null)
    // Memory of its own, exactly the fragment's bytes (not a view into a shared pool slab).
    assert.ok(f.utf8 instanceof ArrayBuffer)
    assert.equal(f.utf8.byteLength, f.size)
  }
})
