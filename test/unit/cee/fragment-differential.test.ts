/**
 * Fragment reassembly verdicts against the straightforward definition (operations §5.5): on
 * seeded random fragment sequences (real secret formats split across requests, fillers, decoys,
 * expiry and buffer eviction), `FragmentBuffer.scan` reports exactly the first enforced pattern
 * of one DLP pass over the concatenated active fragments that no active fragment matches on its
 * own (enforced or warn) — computed here from scratch with the text DLP, every time.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {FragmentBuffer, type TextDlp} from '../../../src/plugins/cee/index.js'
import {createScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, lowerAlnum, phraseFromEntropy, prng, syntheticWordList} from '../scanner/fixtures.js'

const scanner = createScanner(defaultScannerSettings())
const dlp: TextDlp = (t) => scanner.scanTextForDlp(t)

function reference(frags: ReadonlyArray<{text: string; at: number}>, now: number, windowMs: number): string | null {
  const active = frags.filter((f) => now - f.at <= windowMs)
  if (active.length < 2) return null
  const whole = dlp(active.map((f) => f.text).join(''))
  const single = new Set<string>()
  for (const f of active) {
    const r = dlp(f.text)
    for (const m of [...r.matches, ...r.warnings]) single.add(m.pattern)
  }
  return whole.matches.find((m) => !single.has(m.pattern))?.pattern ?? null
}

test('fragment reassembly: scan verdicts equal the full-window definition on seeded random fragment sequences', () => {
  const r = prng(2718)
  const maxBytes = 256
  const windowMs = 1000
  let reported = 0
  for (let run = 0; run < 60; run++) {
    const buf = new FragmentBuffer(maxBytes, windowMs, 4)
    const frags: Array<{text: string; at: number}> = []
    let now = 0
    for (let step = 0; step < 12; step++) {
      now += Math.floor(r() * 400)
      const s = Math.floor(r() * 1e6)
      const secrets = [awsKeyId(s), githubToken(s), anthropicKey(s), j('gl', 'pat-', alnum(22, s)), j('xo', 'xb-', lowerAlnum(20, s)), '4111111111111111', Buffer.from(githubToken(s)).toString('base64')]
      const x = r()
      let parts: string[]
      if (x < 0.5) {
        const secret = secrets[Math.floor(r() * secrets.length)]!
        const cut = 1 + Math.floor(r() * (secret.length - 1))
        parts = [secret.slice(0, cut), secret.slice(cut)]
      } else parts = [x < 0.8 ? `alpha-${s}` : alnum(1 + Math.floor(r() * 80), s)]
      for (const text of parts) {
        buf.append('k', Buffer.from(text, 'utf8'), now)
        frags.push({text, at: now})
        // The buffer's own eviction: oldest fragments leave past maxBytes (one always kept).
        let total = frags.reduce((n, f) => n + Buffer.byteLength(f.text), 0)
        while (total > maxBytes && frags.length > 1) total -= Buffer.byteLength(frags.shift()!.text)
        const want = reference(frags, now, windowMs)
        assert.equal(buf.scan('k', now, dlp), want, `run ${run} step ${step}`)
        if (want !== null) reported++
      }
    }
  }
  assert.ok(reported > 20, `split secrets were reported (${reported})`)
})

/**
 * The buffer as it was before fragments were stored as strings (the oracle): each fragment the
 * UTF-8 bytes of its stream, cut to its last `maxBytes` bytes when larger, evicted oldest first;
 * the window decoded from the concatenated bytes; the full text-DLP pass over it and over each
 * active fragment on its own.
 */
class BytesOracle {
  frags: Array<{bytes: Buffer; at: number}> = []
  constructor(readonly maxBytes: number, readonly windowMs: number, readonly textDlp: TextDlp) {}

  append(data: string | Buffer, at: number): void {
    const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    if (b.length === 0) return
    this.frags.push({bytes: b.length > this.maxBytes ? Buffer.from(b.subarray(b.length - this.maxBytes)) : Buffer.from(b), at})
    let total = this.frags.reduce((n, f) => n + f.bytes.length, 0)
    while (total > this.maxBytes && this.frags.length > 1) total -= this.frags.shift()!.bytes.length
  }

  scan(now: number): string | null {
    const active = this.frags.filter((f) => now - f.at <= this.windowMs)
    if (active.length < 2) return null
    const whole = this.textDlp(Buffer.concat(active.map((f) => f.bytes)).toString('utf8'))
    const single = new Set<string>()
    for (const f of active) {
      const own = this.textDlp(f.bytes.toString('utf8'))
      for (const m of [...own.matches, ...own.warnings]) single.add(m.pattern)
    }
    return whole.matches.find((m) => !single.has(m.pattern))?.pattern ?? null
  }
}

/** Cuts `s` into `n` non-empty pieces at random points. */
function cut(r: () => number, s: string, n: number): string[] {
  const points = new Set<number>()
  while (points.size < Math.min(n, s.length) - 1) points.add(1 + Math.floor(r() * (s.length - 1)))
  const at = [0, ...[...points].sort((a, b) => a - b), s.length]
  return at.slice(1).map((e, i) => s.slice(at[i], e))
}

test('fragment reassembly: string fragments (the detector path) give the verdicts of the byte buffer on split, encoded, seed-phrase, AWS-example and non-ASCII sequences', () => {
  const list = syntheticWordList()
  const settings = defaultScannerSettings()
  settings.seedPhrase.wordList = list
  const sc = createScanner(settings)
  const textDlp: TextDlp = (t) => sc.scanTextForDlp(t)
  const awsDocKey = j('AKIA', 'IOSFODNN7EXAMPLE')
  const r = prng(9151)
  const reported = new Map<string, number>()
  let steps = 0
  for (let run = 0; run < 50; run++) {
    const maxBytes = [96, 256, 1024][run % 3]!
    const windowMs = 1000
    const buf = new FragmentBuffer(maxBytes, windowMs, 4)
    const viaBytes = new FragmentBuffer(maxBytes, windowMs, 4)
    const oracle = new BytesOracle(maxBytes, windowMs, textDlp)
    let now = 0
    for (let step = 0; step < 10; step++) {
      now += Math.floor(r() * 300)
      const s = Math.floor(r() * 1e6)
      const secrets = [
        awsKeyId(s), githubToken(s), anthropicKey(s), j('xo', 'xb-', lowerAlnum(20, s)), '4111111111111111',
        Buffer.from(githubToken(s)).toString('base64'), Buffer.from(anthropicKey(s)).toString('hex'),
        phraseFromEntropy(list, Buffer.from(alnum(16, s))), phraseFromEntropy(list, Buffer.from(alnum(16, s))).split(' ').join('-'),
        `${awsDocKey} example credentials`, `see the official AWS example ${awsDocKey}`,
      ]
      const x = r()
      let parts: string[]
      if (x < 0.55) parts = cut(r, secrets[Math.floor(r() * secrets.length)]!, 2 + Math.floor(r() * 4))
      else if (x < 0.65) parts = [awsDocKey, 'replace these with your actual credentials'].filter(() => r() < 0.7)
      else if (x < 0.75) parts = [`é€${alnum(3, s)}\ud83d\ude00${'ü'.repeat(Math.floor(r() * 60))}`, `x\ud83d`, `\ude00${lowerAlnum(5, s)}`]
      else if (x < 0.8) parts = ['ü'.repeat(maxBytes / 2 + 1 + Math.floor(r() * 8))] // larger than the buffer: cut mid-character
      else parts = [x < 0.9 ? `alpha-${s}` : alnum(1 + Math.floor(r() * 80), s)]
      for (const text of parts) {
        buf.append('k', text, now)
        viaBytes.append('k', Buffer.from(text, 'utf8'), now)
        oracle.append(text, now)
        const want = oracle.scan(now)
        assert.equal(buf.scan('k', now, textDlp), want, `string path, run ${run} step ${step}`)
        assert.equal(viaBytes.scan('k', now, textDlp), want, `byte path, run ${run} step ${step}`)
        steps++
        if (want !== null) reported.set(want, (reported.get(want) ?? 0) + 1)
      }
    }
  }
  // The sequences reach the interesting cases: several patterns reassembled, including seed phrases.
  assert.ok(steps > 600, `steps ${steps}`)
  assert.ok(reported.size >= 4, `patterns reported: ${[...reported.keys()].join(', ')}`)
  assert.ok(reported.has('BIP-39 Seed Phrase'), `seed phrases reassembled: ${[...reported.keys()].join(', ')}`)
})
