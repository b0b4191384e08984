/**
 * The removed-characters screen of text DLP (`removed-chars-screen.ts`, issue 36) never misses:
 * wherever a DLP pattern's set entry matches a form of an ASCII text made by removing C0
 * controls, spaces and dots (the text itself, `ForDLP`, without dots, without white space, or
 * any other subset removed), its screen matches the text — on every shipped pattern, over the
 * catalogue's secrets cut by those characters among noise, and on hand-written shapes with word
 * boundaries next to word and non-word characters. Then text DLP with the screen finds exactly
 * what it finds walking every form (the set-less engine) on such texts. The facts the same walk
 * reads (controls, a long segment, a possible seed phrase) equal their definitions.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import RE2 from 're2'
import {createDlpEngine, defaultScannerSettings, scanTextForDlp} from '../../../src/plugins/scanner/index.js'
import {setSourceOf} from '../../../src/plugins/scanner/dlp-engine.js'
import {screenAsciiText, removedCharsScreenSource} from '../../../src/plugins/scanner/removed-chars-screen.js'
import {segmentsOfAtLeast} from '../../../src/plugins/scanner/text-dlp.js'
import {candidateDecodings, decodeBase32Std, decodeBase64Variants, decodeHexAny, failsEveryWholeDecoding, iterativeDecode} from '../../../src/plugins/scanner/decoders.js'
import {CORE_DLP_EXTRA, DLP_CASES} from './catalogue-cases.js'
import {prng, wif} from './fixtures.js'

const REMOVED = ['\n', '\t', '\r', ' ', '.', '\x01', '\x1f', '\x00']

/** The forms text DLP reads (`T`, ForDLP, without dots, without white space) and random removals of C0 controls, spaces and dots. */
function forms(r: () => number, t: string): string[] {
  const cleaned = t.replace(/[\x00-\x1f]/g, '')
  const out = [t, cleaned, cleaned.replaceAll('.', ''), cleaned.replaceAll(' ', ''), cleaned.replace(/[ .]/g, '')]
  for (let k = 0; k < 3; k++) out.push([...t].filter((c) => !(REMOVED.includes(c) && r() < 0.5)).join(''))
  return out
}

/** `s` with removed characters inserted at random places, among noise. */
function disguised(r: () => number, s: string): string {
  const noise = ['', 'x', ' ', '.', '-', '_', 'a1', ',\n', '\x00', 'in 12', '9', 'Z', ':', '&amp;', 'q=1&amp;']
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  let out = pick(noise)
  for (const c of s) {
    out += c
    if (r() < 0.25) out += pick(REMOVED).repeat(1 + Math.floor(r() * 2))
    else if (r() < 0.03) out += '&amp;'
  }
  return out + pick(noise)
}

function check(label: string, source: string, texts: readonly string[], r: () => number): number {
  const screen = removedCharsScreenSource(source)
  assert.notEqual(screen, null, `${label}: a screen`)
  const re = new RE2(source, 'u')
  const sc = new RE2(screen!, 'u')
  let hits = 0
  for (const t of texts) {
    // The forms of the text and of the text with its `&amp;` decoded (the pieces pass's text).
    const decoded = t.replaceAll('&amp;', '&')
    for (const f of decoded === t ? forms(r, t) : [...forms(r, t), ...forms(r, decoded)]) {
      if (!re.test(f)) continue
      hits++
      assert.ok(sc.test(t), `${label}: ${JSON.stringify(f)} (a form of ${JSON.stringify(t)}) matches, the screen misses the text`)
    }
  }
  return hits
}

const ENGINE = createDlpEngine(defaultScannerSettings())

test('every shipped pattern: its screen matches the text wherever its set entry matches a form with controls, spaces or dots removed', () => {
  const r = prng(4141)
  const secrets = [...Object.values(DLP_CASES), ...Object.values(CORE_DLP_EXTRA)].flat()
  secrets.push('123-45-6789', 'DE89370400440532013000', '4111 1111 1111 1111', wif(true, 'screen'), wif(false, 'screen'), `0x${'ab'.repeat(32)}`,
    'a=1&amp;password=hunter22x', '?x&amp;api_key=0123456789', 'x&amp;amp;token=abcdefgh12')
  const texts: string[] = []
  for (const s of secrets) {
    texts.push(s, `x ${s} y`, `${s}.`, `.${s}`)
    for (let k = 0; k < 10; k++) texts.push(disguised(r, s))
  }
  let hits = 0
  for (const p of ENGINE.all) hits += check(p.name, setSourceOf(p), texts, r)
  // The texts hold positives of every kind: a test that matched nothing would prove nothing.
  assert.ok(hits > 2000, `form matches ${hits}`)
})

test('hand-written shapes: word boundaries beside word and non-word leaves, classes, case, repetitions, anchors', () => {
  const r = prng(4142)
  const sources = [
    '(?i)\\b\\d{3}-\\d{2}\\b', '\\bab\\b', 'a\\bb', '\\b[.]x', 'x[.]\\b', '\\b\\w+\\b', '(?i)\\b[a-z]{2}\\d{2}[a-z0-9]{3,5}\\b', '\\b[ -]?a', 'a[ -]?\\b',
    '&x', 'a&b', '\\b&\\w', '[&;]{2}', '\\Ba\\B', '^ab', 'ab$', '(?m)^a.b$', 'a\\s*b', 'a[^.]b', '(?s)a.b', '(?:ab|c\\.d){2}', 'x\\ny', '[.]{2}', '\\b(?:ab|cd)\\b', '(?i)\\bK\\d\\b', '-(?:\\bb)', '(?:x|-)(?:\\bb|c)',
  ]
  const alphabet = ['a', 'b', 'c', 'd', 'x', 'y', 'K', 'k', '1', '2', '_', '-', ':', ' ', '.', '\n', '\t', '\x01', '&amp;', '&', ';']
  let hits = 0
  for (const src of sources) {
    const texts = Array.from({length: 2500}, () => Array.from({length: 1 + Math.floor(r() * 10)}, () => alphabet[Math.floor(r() * alphabet.length)]!).join(''))
    hits += check(src, src, texts, r)
  }
  assert.ok(hits > 3000, `form matches ${hits}`)
})

test('the screen stands down on a text with a unit at or above U+007F, and proves ordinary prose clean', () => {
  assert.equal(screenAsciiText(ENGINE, 'the build finished in 12 ms; héllo'), null)
  assert.equal(screenAsciiText(ENGINE, 'the build finished in 12 ms;\x7f'), null)
  const prose = Array.from({length: 200}, (_, i) => `${i}: the build finished in ${i * 3} ms; the quick brown fox jumps over the lazy dog.`).join('\n')
  assert.equal(screenAsciiText(ENGINE, prose)?.candidates.size, 0)
  // A secret cut by spaces and dots is kept (its form without them holds the key).
  const key = DLP_CASES['GitHub Token']![0]
  const cut = [...key].join(' ')
  assert.ok([...screenAsciiText(ENGINE, `note: ${cut}.`)!.candidates].some((p) => p.name === 'GitHub Token'))
})

test('text DLP with the screen finds what the set-less engine finds walking every form: secrets dotted, spaced, cut by line breaks, in prose', () => {
  const r = prng(4143)
  const setless = {...ENGINE, allSet: null}
  const secrets = [...Object.values(DLP_CASES), ...Object.values(CORE_DLP_EXTRA)].flat().concat('123-45-6789', 'DE89370400440532013000', wif(true, 'text'))
  const prose = 'the build finished in 12 ms; the quick brown fox jumps over the lazy dog.\n'
  let found = 0
  for (const s of secrets) {
    const shapes = [
      s, [...s].join('.'), [...s].join(' '), [...s].join('\n'), s.slice(0, 6) + '.' + s.slice(6), s.slice(0, 9) + ' \n ' + s.slice(9),
      prose.repeat(3) + disguised(r, s) + prose, `${prose}key=${s}\n${prose}`, `in 2024 ${s.toLowerCase()} ${prose}`,
      `${prose.repeat(3)}q=1&amp;${s.slice(0, 5)}&amp;${s.slice(5)} &amp; ${prose}`,
    ]
    for (const t of shapes) {
      const got = scanTextForDlp(ENGINE, t)
      assert.deepEqual(got, scanTextForDlp(setless, t), JSON.stringify(t))
      if (got.matches.length > 0) found++
      // The page and then its references decoded, as the pieces pass scans them: the second scan
      // reuses the first's walk.
      const decoded = t.replaceAll('&amp;', '&')
      if (decoded !== t) assert.deepEqual(scanTextForDlp(ENGINE, decoded), scanTextForDlp(setless, decoded), JSON.stringify(decoded))
    }
  }
  assert.ok(found > 150, `texts with a finding ${found}`)
})

test('the facts of the walk: controls, controls besides LF, besides tab/LF/CR, % or +, a decodable segment, the seed run screen — as defined, on random ASCII texts', () => {
  const r = prng(4144)
  const phrase = 'abandon ability able about above absent absorb abstract absurd abuse access accident'
  const units = [
    'a', 'bc', 'able ', 'about ', 'x', '0', ' ', '.', '/', '=', ':', ';', '"', '\n', '\t', '\r', '\x01', '\x0b', '\x1f', '-', '_', '\\', 'zzzzzzzz',
    'QUJDREVGR0g', 'deadbeef00', 'MFRGGZDFMZTWQ2LK', 'QUJDREVGR0hJSktMTU5PUFFSUw', '&amp;', '&amp;amp;', '&', '%41', '+', 'page-1.html', phrase, `${phrase} `,
  ]
  const counts = [0, 0, 0, 0, 0, 0]
  for (let i = 0; i < 5000; i++) {
    const t = Array.from({length: Math.floor(r() * 40)}, () => units[Math.floor(r() * units.length)]!).join('')
    const got = screenAsciiText(ENGINE, t)
    assert.ok(got !== null, JSON.stringify(t))
    const controls = /[\x00-\x1f]/.test(t)
    const notLf = /[\x00-\x09\x0b-\x1f]/.test(t)
    const other = /[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(t)
    const cleaned = t.replace(/[\x00-\x1f]/g, '')
    assert.equal(got.controls, controls, JSON.stringify(t))
    assert.equal(got.notLineFeeds, notLf, JSON.stringify(t))
    assert.equal(got.otherControls, other, JSON.stringify(t))
    assert.equal(got.percentOrPlus, /[%+]/.test(t), JSON.stringify(t))
    if (!got.percentOrPlus) assert.equal(iterativeDecode(cleaned), cleaned, JSON.stringify(t))
    // Every segment of ForDLP (and of the text, when its only controls are tab, LF and CR) with a
    // decoding is seen; a segment refused by every decoder has none.
    const segments = [...segmentsOfAtLeast(cleaned, 10), ...(other ? [] : segmentsOfAtLeast(t, 10))]
    for (const seg of segments) {
      const decodes = candidateDecodings(seg).length > 0 || iterativeDecode(seg) !== seg || decodeBase64Variants(seg).length > 0 ||
        (decodeHexAny(seg)?.length ?? 0) > 0 || decodeBase32Std(seg) !== null
      if (decodes) assert.ok(got.decodableSegment, `${JSON.stringify(t)}: ${JSON.stringify(seg)}`)
      if (decodes && seg.length >= 20 && !other && segmentsOfAtLeast(t, 20).includes(seg)) assert.ok(got.decodableSeedSegment, `${JSON.stringify(t)}: ${JSON.stringify(seg)} (20)`)
      if (failsEveryWholeDecoding(seg) && !/[%+]/.test(seg)) assert.ok(!decodes, JSON.stringify(seg))
    }
    if (got.decodableSeedSegment) assert.ok(got.decodableSegment, JSON.stringify(t))
    if (!got.seedRun) assert.equal(ENGINE.seed.detect(t), false, JSON.stringify(t))
    // The text with its `&amp;` decoded, walked on its own, holds nothing the text's walk (which
    // stands for it right after) does not say it may.
    const decoded = t.replaceAll('&amp;', '&')
    if (decoded !== t) {
      const own = screenAsciiText(ENGINE, decoded)!
      const again = screenAsciiText(ENGINE, t)
      const kept = screenAsciiText(ENGINE, decoded)!
      assert.equal(kept, again, JSON.stringify(t))
      for (const k of ['controls', 'notLineFeeds', 'otherControls', 'percentOrPlus'] as const) assert.equal(kept[k], own[k], `${k}: ${JSON.stringify(t)}`)
      for (const k of ['decodableSegment', 'decodableSeedSegment', 'seedRun'] as const) if (own[k]) assert.ok(kept[k], `${k}: ${JSON.stringify(t)}`)
      for (const p of own.candidates) assert.ok(kept.candidates.has(p), `${p.name}: ${JSON.stringify(t)}`)
    }
    if (controls) counts[0]++
    if (notLf) counts[1]++
    if (other) counts[2]++
    if (got.decodableSegment) counts[3]++
    if (got.seedRun) counts[4]++
    if (got.decodableSeedSegment) counts[5]++
  }
  assert.ok(counts.every((c) => c > 200), `${counts}`)
})

test('the walk of a text with &amp; stands for the text with them decoded, right after it, and only then', () => {
  const prose = 'the build finished in 12 ms; the quick brown fox jumps over the lazy dog &amp; its notes.\n'.repeat(8)
  const first = screenAsciiText(ENGINE, prose)
  assert.ok(first !== null)
  assert.equal(screenAsciiText(ENGINE, prose.replaceAll('&amp;', '&')), first)
  // Only once, and only for that text.
  assert.notEqual(screenAsciiText(ENGINE, prose.replaceAll('&amp;', '&')), first)
  screenAsciiText(ENGINE, prose)
  assert.notEqual(screenAsciiText(ENGINE, prose.replaceAll('&amp;', '&').replace('fox', 'cat')), first)
})
