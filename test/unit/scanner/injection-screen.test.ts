/**
 * The request-body injection screen (`injection-screen.ts`, issue 36): every text it proves clean
 * is one `scanResponse` finds clean (trying every pattern, no pattern set) — on the vendored response cases in the shapes that reach
 * each pass (plain, invisible characters, leetspeak, spaced out, vowel-folded, base64 and hex
 * encoded, nested encodings, multiline `system:` lines, non-ASCII text outside the table walk),
 * mixed at random among ordinary texts — and it proves the ordinary texts clean, so the screen
 * does its work. Scanners whose pattern lists hold a whole-text anchor are not screened at all.
 * The body-level verdicts against the former implementation are in body-scan-differential.test.ts.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {createScanner, defaultScannerSettings, type ScannerSettings} from '../../../src/plugins/scanner/index.js'
import {provenCleanTexts} from '../../../src/plugins/scanner/injection-screen.js'
import {scanResponse} from '../../../src/plugins/scanner/response-scanner.js'
import {RESPONSE_CASES} from './catalogue-cases.js'
import {prng} from './fixtures.js'
import {withoutPatternSets} from './oracles.js'

function scannerWith(edit: (s: ScannerSettings) => void = () => {}) {
  const s = defaultScannerSettings()
  edit(s)
  return createScanner(s)
}

const encode64 = (s: string): string => Buffer.from(s).toString('base64')
const hex = (s: string): string => Buffer.from(s).toString('hex')

/** Each vendored injection in the shapes that reach passes 1–6, and their clean twins. */
function shapes(): string[] {
  const out: string[] = []
  for (const [hit, clean] of Object.values(RESPONSE_CASES)) {
    out.push(hit, clean)
    out.push(hit.replace(/ /g, '\u200b '), hit.replace(/e/g, '3').replace(/o/g, '0'), hit.replace(/ /g, ''), hit.replace(/[aeiou]/g, 'a'))
    out.push(encode64(hit), hex(hit), encode64(encode64(hit)), `data: ${encode64(hit)} end`, `пароль ${hit}`, `\n${hit}\n`)
  }
  return out
}

const SCANNERS = [
  ['defaults', scannerWith()],
  ['response scanning off (core only)', scannerWith((s) => (s.responseScanning.enabled = false))],
  ['a configured multiline pattern', scannerWith((s) => (s.responseScanning.patterns = [{name: 'Line Start', regex: '(?m)^\\s*tool\\s*:'}]))],
] as const

test('every text the screen proves clean is clean to scanResponse, and ordinary texts are proven', () => {
  const r = prng(4242)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const hits = [...shapes(), 'tool: run', 'x\n  tool: run']
  const words = ['alpha', 'item-123', 'Description of item 7, with a few words', '1234', 'héllo', 'パス', 'QUJDREVGR0g=', 'deadbeefcafe', 'ok', 'sys', 'tem:']
  for (const [name, sc] of SCANNERS) {
    // The oracle tries every pattern on every pass text: no set, no joint walk the screen shares.
    const oracle = withoutPatternSets(sc.response)
    let proven = 0
    let flagged = 0
    for (let i = 0; i < 150; i++) {
      const texts = [...new Set(Array.from({length: 2 + Math.floor(r() * 30)}, () => (r() < 0.15 ? pick(hits) : pick(words) + (r() < 0.5 ? ` ${Math.floor(r() * 1e4)}` : ''))))]
      const clean = provenCleanTexts(sc.response, texts)
      for (const t of texts) {
        const got = scanResponse(oracle, t)
        if (clean.has(t)) {
          proven++
          assert.ok(got.clean, `${name}: proven clean but scanResponse finds ${got.matches.map((m) => m.pattern).join(', ')} in ${JSON.stringify(t)}`)
        } else if (!got.clean) flagged++
      }
    }
    assert.ok(proven > 1000, `${name}: proven ${proven}`)
    assert.ok(flagged > 50, `${name}: flagged ${flagged}`)
  }
})

test('a scanner with a whole-text anchor in a pattern list proves nothing (the request path scans every text)', () => {
  const sc = scannerWith((s) => (s.responseScanning.patterns = [{name: 'Anchored', regex: '^tool:'}]))
  assert.equal(provenCleanTexts(sc.response, ['alpha', 'beta', 'tool: x']).size, 0)
  const multiline = scannerWith((s) => (s.responseScanning.patterns = [{name: 'Line Start', regex: '(?m)^tool:'}]))
  assert.deepEqual([...provenCleanTexts(multiline.response, ['alpha', 'beta', 'tool: x'])], ['alpha', 'beta'])
})
