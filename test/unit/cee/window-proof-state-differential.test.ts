/**
 * The window proof with its per-key state reused in place (round 9, issue 15: the base64 track's
 * undecided bytes rewritten in one array, every string of the state — form tails, needle tail,
 * open segment, seed tails, base64 carry and end — kept as units in one `TailArena` instead of
 * fresh strings per fragment) against the proof as
 * it was (`window-proof-strings.ts`, the replaced code kept as the oracle). Both are fed the same
 * fragments and must agree after every one: `proven` (and whether it asked for the window's text),
 * `gaveUp`, and `size` (the state's lengths: tails, seed tails, undecided bytes, open segment).
 * Corpus: the window-proof tests' (secrets split at every point behind fillers, base64 at every
 * alignment, seed phrases plain, dash-joined and base64, binary base64 decodings, random multi-way
 * splits, clean traffic of many shapes, `%`, `+`, non-ASCII).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {extractPayload} from '../../../src/plugins/cee/index.js'
import {WindowProof} from '../../../src/plugins/cee/window-proof.js'
import {createScanner, defaultScannerSettings, type Scanner} from '../../../src/plugins/scanner/index.js'
import {urlOfSize} from '../../../bench/cee.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, lowerAlnum, phraseFromEntropy, prng, syntheticWordList, upperAlnum} from '../scanner/fixtures.js'
import {StringWindowProof} from './window-proof-strings.js'

const list = syntheticWordList()
const settings = defaultScannerSettings()
settings.seedPhrase.wordList = list
const scanner: Scanner = createScanner(settings)

interface Tally {
  steps: number
  proven: number
}

function run(parts: readonly string[], label: string, t: Tally): void {
  const neu = WindowProof.start(scanner.dlp)!
  const old = StringWindowProof.start(scanner.dlp)!
  let window = ''
  parts.forEach((p, i) => {
    const frag = {}
    neu.extend(frag, p)
    old.extend(frag, p)
    window += p
    let asked = [0, 0]
    const a = neu.proven(() => (asked[0]++, window))
    const b = old.proven(() => (asked[1]++, window))
    assert.equal(a, b, `${label}: proven at fragment ${i}`)
    assert.deepEqual(asked.slice(0, 1), asked.slice(1), `${label}: window asked for at fragment ${i}`)
    assert.equal(neu.gaveUp, old.gaveUp, `${label}: gave up at fragment ${i}`)
    assert.equal(neu.size, old.size, `${label}: state size at fragment ${i}`)
    assert.equal(neu.count, old.count)
    asked = [0, 0]
    t.steps++
    if (a) t.proven++
  })
}

const fillers = (s: number): string[] => [extractPayload(urlOfSize(256, s)).values, `alpha-${s}bravo-${s * 7}`]

function secrets(s: number): string[] {
  const base = [awsKeyId(s), githubToken(s), anthropicKey(s), j('xo', 'xb-', lowerAlnum(20, s)), '4111111111111111', j('gl', 'pat-', alnum(22, s))]
  return [...base, Buffer.from(githubToken(s)).toString('base64'), Buffer.from(anthropicKey(s)).toString('base64url'), Buffer.from(anthropicKey(s)).toString('hex')]
}

test('window proof state: secrets split at every point behind clean fillers — same answers and state as the string proof', () => {
  const t: Tally = {steps: 0, proven: 0}
  for (let s = 1; s <= 3; s++) for (const secret of secrets(s)) for (let cut = 1; cut < secret.length; cut++) run([...fillers(s), secret.slice(0, cut), secret.slice(cut)], `secret ${s} cut ${cut}`, t)
  assert.ok(t.proven > 300, `proven ${t.proven} of ${t.steps}`)
})

test('window proof state: base64 at every alignment and cut, seed phrases, binary decodings', () => {
  const t: Tally = {steps: 0, proven: 0}
  for (let s = 1; s <= 4; s++) {
    for (const secret of [githubToken(s), awsKeyId(s), anthropicKey(s), phraseFromEntropy(list, Buffer.from(alnum(16, s)))]) {
      for (const lead of ['', 'x', 'xy', 'xyz']) {
        const enc = Buffer.from(`${lead}note ${secret} end`).toString(s % 2 === 0 ? 'base64' : 'base64url').replace(/=+$/, '')
        for (let cut = 1; cut < enc.length; cut++) run([enc.slice(0, cut), enc.slice(cut)], `b64 ${s} ${lead.length} ${cut}`, t)
      }
    }
    const phrase = phraseFromEntropy(list, Buffer.from(alnum(16, s)))
    for (const form of [phrase, phrase.split(' ').join('-'), Buffer.from(phrase).toString('base64url')]) {
      for (let cut = 1; cut < form.length; cut++) run([`lead${s} `, form.slice(0, cut), form.slice(cut)], `seed ${s} cut ${cut}`, t)
    }
    run(phrase.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`)), `seed ${s} per word`, t)
  }
  const r = prng(31337)
  const bytes = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
  for (let i = 0; i < 80; i++) {
    const enc = bytes(40 + Math.floor(r() * 600)).toString(i % 2 === 0 ? 'base64url' : 'base64').replace(/=+$/, '')
    const n = 2 + Math.floor(r() * 6)
    const points = [...new Set(Array.from({length: n - 1}, () => 1 + Math.floor(r() * (enc.length - 1))))].sort((x, y) => x - y)
    const at = [0, ...points, enc.length]
    run(at.slice(1).map((e, k) => enc.slice(at[k], e)), `binary ${i}`, t)
  }
  for (let s = 1; s <= 3; s++) {
    for (const secret of [githubToken(s), awsKeyId(s)]) {
      const enc = Buffer.concat([bytes(9), Buffer.from(`\u0301\u0007${secret}\u0000`), bytes(7)]).toString('base64url')
      for (let cut = 1; cut < enc.length; cut++) run([enc.slice(0, cut), enc.slice(cut)], `binary secret ${s} cut ${cut}`, t)
    }
  }
  assert.ok(t.proven > 100, `proven ${t.proven} of ${t.steps}`)
})

test('window proof state: random multi-way splits and clean traffic of many shapes (the bench streams for many requests)', () => {
  const t: Tally = {steps: 0, proven: 0}
  const r = prng(4242)
  for (let s = 1; s <= 6; s++) {
    const shapes: string[][] = [
      Array.from({length: 16}, (_, k) => extractPayload(urlOfSize(2048, s * 20 + k)).values),
      Array.from({length: 16}, (_, k) => extractPayload(urlOfSize(2048, s * 20 + k)).keys),
      [0, 1, 2].map((k) => extractPayload(urlOfSize(1024, s + k)).keys),
      [alnum(60, s), alnum(60, s + 1), alnum(60, s + 2)],
      ['hello world how are you', ' today my friend', ' see you soon'],
      ['https://example.com/a?b=c', 'path/to/thing', '{"k":"v"}'],
      ['1234567890', '0987654321', '5555'],
      ['ABCDEFGHIJKLMNOP', 'QRSTUVWXYZ234567', 'ABCDEFGH'],
      ['50%25 off', 'a+b', 'c%2Bd'],
      ['héllo wörld', 'ﬁle ＡＢＣ', '日本語'],
      [upperAlnum(40, s), lowerAlnum(40, s), '=='],
    ]
    for (const parts of shapes) run(parts, `shape ${s}`, t)
    for (const secret of secrets(s + 10)) {
      const n = 3 + Math.floor(r() * 3)
      const points = new Set<number>()
      while (points.size < n - 1) points.add(1 + Math.floor(r() * (secret.length - 1)))
      const at = [0, ...[...points].sort((x, y) => x - y), secret.length]
      run([...fillers(s), ...at.slice(1).map((e, i) => secret.slice(at[i], e))], `multi ${s}`, t)
    }
  }
  assert.ok(t.proven > 100, `proven ${t.proven} of ${t.steps}`)
})
