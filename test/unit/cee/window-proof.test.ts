/**
 * The incremental window proof (`cee/window-proof.ts`) against the whole-window pass as the
 * oracle. Two properties, checked after every appended fragment:
 *  - soundness: whenever the proof says the window is clean, `scanTextForDlp` over the whole
 *    window has no finding at all (no enforced match, no warn match);
 *  - identical verdicts: a FragmentBuffer fed `textDlpOf(scanner)` (proof on) answers `scan`
 *    exactly as one fed the plain text DLP (every window through the full pass).
 * Corpora: real secret formats split at every split point (2 fragments) and at random points
 * (3–5), behind clean fillers; the same secrets base64-, hex- and base32-encoded; texts whose
 * whole base64 *encoding* is split (the window's own decoding reveals the secret, at every
 * alignment); seed phrases (plain, `-`-joined, base64-encoded) split at every token and
 * mid-token; clean traffic (the bench's query values and keys, random alphanumerics, words and
 * spaces, delimiters, digits-only and upper-case windows, `%`, `+`, non-ASCII).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {extractPayload, FragmentBuffer, textDlpOf, type TextDlp} from '../../../src/plugins/cee/index.js'
import {WindowProof} from '../../../src/plugins/cee/window-proof.js'
import {createScanner, defaultScannerSettings, type Scanner} from '../../../src/plugins/scanner/index.js'
import {urlOfSize} from '../../../bench/cee.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, lowerAlnum, phraseFromEntropy, prng, syntheticWordList, upperAlnum} from '../scanner/fixtures.js'

const list = syntheticWordList()
const settings = defaultScannerSettings()
settings.seedPhrase.wordList = list
const scanner: Scanner = createScanner(settings)
const plain: TextDlp = (t) => scanner.scanTextForDlp(t)
const withProof = textDlpOf(scanner)

function noFinding(text: string): boolean {
  const r = scanner.scanTextForDlp(text)
  return r.matches.length === 0 && r.warnings.length === 0
}

interface Tally {
  windows: number
  proven: number
  found: number
}

/** Feeds `parts` as one key's fragments through both buffers and a bare proof; checks both properties at each step. */
function run(parts: readonly string[], label: string, t: Tally): void {
  const a = new FragmentBuffer(65536, 60_000, 4)
  const b = new FragmentBuffer(65536, 60_000, 4)
  const proof = WindowProof.start(scanner.dlp)!
  let window = ''
  parts.forEach((p, i) => {
    a.append('k', p, i)
    b.append('k', p, i)
    proof.extend({}, p)
    window += p
    const proven = proof.proven(() => window)
    if (proven) assert.ok(noFinding(window), `${label}: proven clean but the full pass finds something (step ${i})`)
    const want = a.scan('k', i, plain)
    assert.equal(b.scan('k', i, withProof), want, `${label}: verdict differs at step ${i}`)
    t.windows++
    if (proven) t.proven++
    if (want !== null) t.found++
  })
}

const fillers = (s: number): string[] => [extractPayload(urlOfSize(256, s)).values, `alpha-${s}bravo-${s * 7}`]

function secrets(s: number): string[] {
  const base = [awsKeyId(s), githubToken(s), anthropicKey(s), j('xo', 'xb-', lowerAlnum(20, s)), '4111111111111111', j('gl', 'pat-', alnum(22, s))]
  return [
    ...base,
    Buffer.from(githubToken(s)).toString('base64'),
    Buffer.from(anthropicKey(s)).toString('base64url'),
    Buffer.from(anthropicKey(s)).toString('hex'),
  ]
}

test('window proof: secrets split at every point behind clean fillers — proven windows are clean, verdicts equal the full pass', () => {
  const t: Tally = {windows: 0, proven: 0, found: 0}
  for (let s = 1; s <= 3; s++) {
    for (const secret of secrets(s)) {
      for (let cut = 1; cut < secret.length; cut++) run([...fillers(s), secret.slice(0, cut), secret.slice(cut)], `secret ${s} cut ${cut}`, t)
    }
  }
  assert.ok(t.found > 300, `split secrets were reported (${t.found})`)
  assert.ok(t.proven > 300, `clean windows were proven (${t.proven} of ${t.windows})`)
})

test('window proof: a text whose base64 encoding is split (every alignment, every cut) — the window decoding finds the secret exactly as the full pass', () => {
  const t: Tally = {windows: 0, proven: 0, found: 0}
  const r = prng(77)
  for (let s = 1; s <= 4; s++) {
    for (const secret of [githubToken(s), awsKeyId(s), anthropicKey(s), phraseFromEntropy(list, Buffer.from(alnum(16, s)))]) {
      for (const lead of ['', 'x', 'xy', 'xyz']) {
        const enc = Buffer.from(`${lead}note ${secret} end`).toString(s % 2 === 0 ? 'base64' : 'base64url').replace(/=+$/, '')
        for (let cut = 1; cut < enc.length; cut += 1 + Math.floor(r() * 3)) run([enc.slice(0, cut), enc.slice(cut)], `b64 ${s} ${lead.length} ${cut}`, t)
      }
    }
  }
  assert.ok(t.found > 50, `decoded secrets were reported (${t.found})`)
})

test('window proof: seed phrases split at every token boundary and inside tokens, plain, dash-joined and base64', () => {
  const t: Tally = {windows: 0, proven: 0, found: 0}
  for (let s = 1; s <= 3; s++) {
    const phrase = phraseFromEntropy(list, Buffer.from(alnum(16, s)))
    for (const form of [phrase, phrase.split(' ').join('-'), Buffer.from(phrase).toString('base64url')]) {
      // A base64 window must start at its encoding's start to decode to the phrase.
      const lead = form === phrase ? [`lead${s} `] : form.includes('-') ? [`lead${s}-`] : []
      for (let cut = 1; cut < form.length; cut++) run([...lead, form.slice(0, cut), form.slice(cut)], `seed ${s} cut ${cut}`, t)
    }
    // Many small pieces: every word its own request.
    run(phrase.split(' ').map((w, i) => (i === 0 ? w : ` ${w}`)), `seed ${s} per word`, t)
  }
  assert.ok(t.found > 100, `seed phrases were reported (${t.found})`)
})

test('window proof: random multi-fragment splits and clean traffic of many shapes', () => {
  const t: Tally = {windows: 0, proven: 0, found: 0}
  const r = prng(4242)
  const shapes = (s: number): string[][] => [
    [0, 1, 2, 3].map((k) => extractPayload(urlOfSize(2048, s + k)).values),
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
  for (let s = 1; s <= 6; s++) {
    for (const parts of shapes(s)) run(parts, `shape ${s}`, t)
    for (const secret of secrets(s + 10)) {
      const n = 3 + Math.floor(r() * 3)
      const points = new Set<number>()
      while (points.size < n - 1) points.add(1 + Math.floor(r() * (secret.length - 1)))
      const at = [0, ...[...points].sort((x, y) => x - y), secret.length]
      run([...fillers(s), ...at.slice(1).map((e, i) => secret.slice(at[i], e))], `multi ${s}`, t)
    }
  }
  assert.ok(t.proven > 40, `clean windows were proven (${t.proven} of ${t.windows})`)
})

test('window proof: rebuilt when the window no longer starts where it did (expiry), and dropped for byte fragments', () => {
  const buf = new FragmentBuffer(65536, 1000, 4)
  const ref = new FragmentBuffer(65536, 1000, 4)
  const secret = githubToken(9)
  const steps: Array<[string, number]> = [['alpha-1', 0], [secret.slice(0, 10), 500], [secret.slice(10), 900], ['bravo-2', 1600], ['charlie-3', 1700]]
  for (const [text, now] of steps) {
    buf.append('k', text, now)
    ref.append('k', text, now)
    assert.equal(buf.scan('k', now, withProof), ref.scan('k', now, plain), `at ${now}`)
  }
  const bytes = new FragmentBuffer(65536, 1000, 4)
  bytes.append('k', Buffer.from(secret.slice(0, 12)), 0)
  bytes.append('k', Buffer.from(secret.slice(12)), 1)
  assert.equal(bytes.scan('k', 1, withProof), 'GitHub Token')
})

test('window proof: the clean windows of the cee bench (valid base64url, decoded every request) are proven, so they skip the full pass', () => {
  for (const size of [256, 1024, 2048]) {
    for (const stream of ['values', 'keys'] as const) {
      const proof = WindowProof.start(scanner.dlp)!
      let window = ''
      for (let r = 0; r < 4; r++) {
        const p = extractPayload(urlOfSize(size, 100 + r))[stream]
        proof.extend({}, p)
        window += p
        assert.ok(noFinding(window))
        assert.ok(proof.proven(() => window), `${size} B ${stream}: window of ${r + 1} fragments proven`)
      }
      assert.ok(proof.size < 4096, `per-key state ${proof.size} B`)
    }
  }
})

test('window proof: windows whose base64 decoding is binary (U+FFFD, marks, controls, other scripts) — secrets inside the binary split at every offset, verdicts equal the full pass', () => {
  const t: Tally = {windows: 0, proven: 0, found: 0}
  const r = prng(31337)
  const bytes = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
  // Clean binary windows, split at random points into 2–5 fragments (values of the bench's shape
  // decode to such text every request).
  for (let i = 0; i < 60; i++) {
    const enc = bytes(40 + Math.floor(r() * 300)).toString(i % 2 === 0 ? 'base64url' : 'base64').replace(/=+$/, '')
    const n = 2 + Math.floor(r() * 4)
    const points = [...new Set(Array.from({length: n - 1}, () => 1 + Math.floor(r() * (enc.length - 1))))].sort((x, y) => x - y)
    const at = [0, ...points, enc.length]
    run(at.slice(1).map((e, k) => enc.slice(at[k], e)), `binary ${i}`, t)
  }
  // A secret between binary bytes (and next to combining marks and controls), the encoding cut at every offset.
  for (let s = 1; s <= 3; s++) {
    for (const secret of [githubToken(s), awsKeyId(s)]) {
      const plainText = Buffer.concat([bytes(9), Buffer.from(`\u0301\u0007${secret}\u0000`), bytes(7)])
      const enc = plainText.toString('base64url')
      for (let cut = 1; cut < enc.length; cut++) run([enc.slice(0, cut), enc.slice(cut)], `binary secret ${s} cut ${cut}`, t)
    }
  }
  assert.ok(t.found > 100, `secrets in decoded binary were reported (${t.found})`)
  assert.ok(t.proven > 100, `clean binary windows were proven (${t.proven} of ${t.windows})`)
})
