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
import {alnum, anthropicKey, awsKeyId, githubToken, j, lowerAlnum, prng} from '../scanner/fixtures.js'

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
