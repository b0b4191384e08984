/**
 * The DLP RE2::Set pre-filter (fed from a reused UTF-8 scratch buffer) and the seed-phrase token
 * count are optimisations only: on seeded random URLs and texts, the engine with the set, with
 * only the alternation, and with no pre-filter at all give identical results.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import RE2 from 're2'
import {wordlist as englishWordlist} from '@scure/bip39/wordlists/english.js'
import {
  createDlpEngine, createSeedPhraseDetector, createUrlScanner, defaultScannerSettings, RateLimiter, scanTextForDlp, scanUrl,
} from '../../../src/plugins/scanner/index.js'
import {countSeedTokens, MIN_PHRASE_UNITS} from '../../../src/plugins/scanner/seed-phrase.js'
import {segmentsOfAtLeast, splitOnDelimiters, stripUnicodeWhitespace} from '../../../src/plugins/scanner/text-dlp.js'
import {decodeHexNormalised, decodeHexStrict} from '../../../src/plugins/scanner/decoders.js'
import {lineSafe, noPatternMatchesAny} from '../../../src/plugins/scanner/dlp-engine.js'
import {Utf8Scratch} from '../../../src/plugins/scanner/utf8-scratch.js'
import {compileSet} from '../../../src/plugins/scanner/pattern-set.js'
import {WIF_KEY_START} from '../../../src/plugins/scanner/validators.js'
import {alnum, anthropicKey, awsKeyId, githubToken, j, phraseFromEntropy, prng, randomJoin, referenceDetect, syntheticWordList, wif} from './fixtures.js'

const WORDS = syntheticWordList()
const ENGLISH = englishWordlist as readonly string[]

function pieces(): string[] {
  return [
    anthropicKey(1), awsKeyId(2), githubToken(3), j('xo', 'xb-', alnum(20)), j('gl', 'pat-', alnum(22)), '4111 1111 1111 1111',
    '4111 1111 1111 1112', 'GB82WEST12345698765432', '123-45-6789', 'password=hunter22', j('-----BEGIN ', 'RSA PRIVATE KEY-----'),
    wif(true), 'start-123456', 'warn-abcde', 'hello', 'a/b/123', 'a=b', '%2F', '%25', '.', '/', '-', ' ', '\n', '\t', '\v', '\f', ':', ';', '|', ',',
    'é', 'ſ', '\u212a', '\u200b', '\u00a0', '\u3000', '\ud800', '\udfff', '😀', 'ｓｋ', '\u0000',
    phraseFromEntropy(WORDS, Buffer.alloc(16, 7)), WORDS.slice(0, 11).join(' '), WORDS.slice(100, 113).join('-'),
  ]
}

function variants(r: () => number, s: string): string {
  const x = r()
  if (x < 0.1) return Buffer.from(s).toString('base64')
  if (x < 0.15) return Buffer.from(s).toString('hex')
  if (x < 0.2) return Buffer.from(s).toString('base64url')
  if (x < 0.25) return s.split('').join('.')
  if (x < 0.3) return encodeURIComponent(encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '')))
  return s
}

/** Default settings (synthetic word list, no throttling) with these configured DLP patterns. */
function settingsWith(patterns: ReturnType<typeof defaultScannerSettings>['dlp']['patterns']): ReturnType<typeof defaultScannerSettings> {
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = 1_000_000
  settings.seedPhrase.wordList = WORDS
  settings.dlp.patterns = patterns
  return settings
}

test('DLP set pre-filter vs alternation only vs none: identical URL results and text findings', async () => {
  const settings = settingsWith([
    {name: 'Anchored', severity: 'high', regex: '^start-[0-9]{6}$'},
    {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'},
    {name: 'Slashy', severity: 'medium', regex: 'a/b/[0-9]{3}'},
    {name: 'Exempted', severity: 'high', regex: 'hello', exemptDomains: ['*.example.org']},
  ])
  const fast = createDlpEngine(settings)
  const altOnly = {...fast, allSet: null}
  const none = {...fast, corePrefilter: null, allPrefilter: null, allSet: null}
  const engines = [fast, altOnly, none]
  const scanners = engines.map((e) => createUrlScanner(settings, e))
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const r = prng(4242)
  const ps = pieces()
  const pick = () => variants(r, ps[Math.floor(r() * ps.length)]!)
  let blocked = 0
  for (let i = 0; i < 500; i++) {
    const parts = Array.from({length: 1 + Math.floor(r() * 5)}, pick)
    const host = r() < 0.2 ? 'api.example.org' : 'example.com'
    const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))
    const url = `https://${host}/${enc(parts[0]!)}?a=${enc(parts.slice(1).join(''))}&b=${enc(pick())}&c=${enc(pick())}&d=${enc(pick())}`
    const results = []
    for (const sc of scanners) results.push(await scanUrl(url, {...ctx, scanner: sc}))
    assert.deepEqual(results[1], results[0], url)
    assert.deepEqual(results[2], results[0], url)
    if (!results[0]!.allowed) blocked++
    const text = parts.join(r() < 0.5 ? ' ' : '\n')
    const t = engines.map((e) => scanTextForDlp(e, text))
    assert.deepEqual(t[1], t[0], JSON.stringify(text))
    assert.deepEqual(t[2], t[0], JSON.stringify(text))
  }
  assert.ok(blocked > 50 && blocked < 480, `blocked ${blocked}`)
})

test('line-batched screen (one set pass over all targets) vs per-target screening: identical URL results', async () => {
  // Multi-line anchors keep the engine line-batchable; a whole-text anchor would not.
  const settings = settingsWith([
    {name: 'Line anchored', severity: 'high', regex: '(?m)^start-[0-9]{6}$'},
    {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'},
    {name: 'Bounded', severity: 'medium', regex: '\\bhello\\b'},
    {name: 'Exempted', severity: 'high', regex: 'a/b/[0-9]{3}', exemptDomains: ['*.example.org']},
  ])
  const batched = createDlpEngine(settings)
  assert.equal(batched.lineBatchable, true)
  const perTarget = {...batched, lineBatchable: false}
  const scanners = [batched, perTarget].map((e) => createUrlScanner(settings, e))
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const r = prng(9090)
  const ps = [...pieces(), 'start-123456', 'xstart-123456', 'start-1234567', 'hello', 'ahello', 'hellos', 'page', 'open', '50']
  const pick = () => variants(r, ps[Math.floor(r() * ps.length)]!)
  let blocked = 0
  let clean = 0
  for (let i = 0; i < 600; i++) {
    const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'))
    const host = r() < 0.2 ? 'api.example.org' : 'example.com'
    const url = r() < 0.3
      ? `https://${host}/v1/${enc(pick())}?q=${enc(pick())}`
      : `https://${host}/${enc(pick())}/${enc(pick())}?a=${enc(pick())}&b=${enc(pick())}&c=${enc(pick())}`
    const [a, b] = [await scanUrl(url, {...ctx, scanner: scanners[0]!}), await scanUrl(url, {...ctx, scanner: scanners[1]!})]
    assert.deepEqual(a, b, url)
    if (!a.allowed) blocked++
    else if (a.warnings.length === 0) clean++
  }
  assert.ok(blocked > 50 && clean > 50, `blocked ${blocked}, clean ${clean}`)
  // The shortcut itself: a miss only when no target can match; any hit anywhere answers false.
  assert.equal(noPatternMatchesAny(batched, ['open', '50', 'https://example.com/v1?page=2']), true)
  assert.equal(noPatternMatchesAny(batched, ['open', 'start-123456', '50']), false)
  assert.equal(noPatternMatchesAny(batched, ['open', awsKeyId(5)]), false)
  assert.equal(noPatternMatchesAny(perTarget, ['open']), false)
})

test('lineSafe: only whole-text anchors make a pattern unsafe to screen line by line', () => {
  for (const ok of ['abc', '[^a-z]+', '(?i)[^\\s&]{4,}', '(?m)^abc$', '(?i)(?m)(?:^|[?&;])\\s*token', '\\bkey\\b', '[$^]x', '\\$5', '\\^']) {
    assert.equal(lineSafe(ok), true, ok)
  }
  for (const bad of ['^abc', 'abc$', '(?i)^x', '\\Afoo', 'foo\\z', '(?m)^a(?-m:$)', '(?i)x(?m)^y', '[a]^']) {
    assert.equal(lineSafe(bad), false, bad)
  }
})

test('scratch UTF-8 encoding equals Buffer.from for any code units', () => {
  const r = prng(11)
  const enc = new Utf8Scratch()
  for (let i = 0; i < 2000; i++) {
    const asciiOnly = i % 3 === 0
    const s = String.fromCharCode(...Array.from({length: Math.floor(r() * 3000)}, () => (asciiOnly || r() < 0.5 ? Math.floor(r() * 128) : Math.floor(r() * 0x10000))))
    assert.ok(enc.encode(s).equals(Buffer.from(s, 'utf8')))
  }
})

test('seed-phrase token count equals the splitter token count; detection unchanged', () => {
  const splitter = new RE2('[-\\s,|;:]+', 'u')
  const r = prng(5)
  const alphabet = ['a', 'b', 'Z', ' ', '-', '\t', '\n', '\v', '\f', '\r', ',', '|', ';', ':', '\u00a0', '\u2028', '\u3000', 'İ', 'ſ', '\ud800', '\u0085', '\u000b']
  const det = createSeedPhraseDetector(WORDS, 12, true)
  for (let i = 0; i < 5000; i++) {
    const s = Array.from({length: Math.floor(r() * 40)}, () => (r() < 0.3 ? WORDS[Math.floor(r() * 50)]! : alphabet[Math.floor(r() * alphabet.length)]!)).join('')
    const want = s.toLowerCase().split(splitter).filter((t) => t !== '').length
    assert.equal(countSeedTokens(s, Infinity), want, JSON.stringify(s))
    assert.equal(countSeedTokens(s, 12), Math.min(want, 12), JSON.stringify(s))
  }
  const phrase = phraseFromEntropy(WORDS, Buffer.alloc(16, 3))
  assert.equal(det.detect(phrase), true)
  assert.equal(det.detect(phrase.replace(/k/g, '\u212a')), true, 'KELVIN SIGN lower-cases to k: still the phrase')
  assert.equal(det.detect(phrase.toUpperCase()), true)
  assert.equal(det.detect(phrase.split(' ').slice(0, 11).join(' ')), false)
  assert.equal(det.detect(phrase.split(' ').join(' |\t')), true)
})

test('text helpers and the seed detector equal their original implementations', () => {
  const r = prng(77)
  const det = createSeedPhraseDetector(WORDS, 12, true)
  const valid = [phraseFromEntropy(WORDS, Buffer.alloc(16, 1)), phraseFromEntropy(WORDS, Buffer.alloc(20, 2)), phraseFromEntropy(WORDS, Buffer.alloc(32, 9))]
  const alphabet = ['a', 'Z', ' ', '-', '\t', '\n', '\v', '\f', ',', '|', ';', ':', '/', '=', '"', '\u00a0', '\u2028', '\u3000', '\u0085', 'İ', 'Σ', 'ſ', '\ud800', '😀', '0x', '\\x', 'ab', '09', 'F']
  let detected = 0
  for (let i = 0; i < 3000; i++) {
    const pick = (x: number): string =>
      x < 0.05 ? valid[Math.floor(r() * valid.length)]! : x < 0.5 ? WORDS[Math.floor(r() * 40)]!.toUpperCase() : alphabet[Math.floor(r() * alphabet.length)]!
    const s = randomJoin(r, 40, pick, 0.5)
    const want = referenceDetect(WORDS, 12, s)
    if (want) detected++
    assert.equal(det.detect(s), want, JSON.stringify(s))
    // Non-ASCII letters that lower-case to ASCII ones (KELVIN SIGN → k), or that change a token's
    // length (İ → i + U+0307): the copy-free plausibility check must not reject such tokens.
    const kelvin = s.replace(/[kK]/g, '\u212a')
    assert.equal(det.detect(kelvin), referenceDetect(WORDS, 12, kelvin), JSON.stringify(kelvin))
    // Original for…of implementations.
    const segs: string[] = []
    let cur = ''
    for (const ch of s) {
      if ('/?&= \n\r\t"\'`{}[]()<>:,;.|!@#*~$^'.includes(ch)) {
        if (cur !== '') segs.push(cur)
        cur = ''
      } else cur += ch
    }
    if (cur !== '') segs.push(cur)
    assert.deepEqual(splitOnDelimiters(s), segs)
    for (const min of [1, 10, 20]) assert.deepEqual([...segmentsOfAtLeast(s, min)], segs.filter((g) => g.length >= min))
    let ws = ''
    const goSpace = (cp: number) =>
      (cp >= 0x09 && cp <= 0x0d) || cp === 0x20 || cp === 0x85 || cp === 0xa0 || cp === 0x1680 ||
      (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
    for (const ch of s) if (!goSpace(ch.codePointAt(0)!)) ws += ch
    assert.equal(stripUnicodeWhitespace(s), ws, JSON.stringify(s))
    const t = s.split('\\x').join('').split('\\X').join('').split('0x').join('').split('0X').join('')
    let h = ''
    for (const ch of t) if (ch !== ':' && ch !== ' ' && ch !== '-' && ch !== ',') h += ch
    assert.deepEqual(decodeHexNormalised(s), s.length < 4 ? null : decodeHexStrict(h))
  }
  assert.ok(detected > 20, `detected ${detected}`)
  // One-byte texts (the buffer path of stripUnicodeWhitespace), Latin-1 spaces included.
  const oneByte = ['a', 'Z', ' ', '\t', '\n', '\r', '\v', '\f', '\u0085', '\u00a0', 'é', 'ÿ', '\u0000', '0', '.']
  for (let i = 0; i < 3000; i++) {
    const s = Array.from({length: Math.floor(r() * 60)}, () => oneByte[Math.floor(r() * oneByte.length)]!).join('')
    let ws = ''
    for (const ch of s) if (!/[\t\n\v\f\r \u0085\u00a0]/.test(ch)) ws += ch
    assert.equal(stripUnicodeWhitespace(s), ws, JSON.stringify(s))
  }
})

test('segment walk (all segments, and the decodable ones) and white-space strip on long texts (skip-ahead walk, ASCII byte path) equal their original forms', () => {
  const r = prng(3636)
  // The generator walk the skip-ahead walk replaced, as it was.
  const delims = '/?&= \n\r\t"\'`{}[]()<>:,;.|!@#*~$^'
  const forward = (s: string, min: number): string[] => {
    const out: string[] = []
    let start = 0
    for (let i = 0; i < s.length; i++) {
      if (!delims.includes(s[i]!)) continue
      if (i - start >= min) out.push(s.slice(start, i))
      start = i + 1
    }
    if (s.length - start >= min) out.push(s.slice(start))
    return out
  }
  // A segment some decoder may accept: no unit outside the base64, hex and base32 alphabets
  // (written out here, not read from the decoders' table).
  const decodable = (seg: string): boolean => /^[A-Za-z0-9+\-_=\\]*$/.test(seg)
  const goSpace = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/gu
  const words = [
    'a', 'ab', 'abcdefghi', 'abcdefghij', 'abcdefghijk', '0123456789012345678', '01234567890123456789', 'x'.repeat(40), '/', ' ', '\n', '\t', ':', ',', '\v', '\f', '\u0085', '\u00a0', 'é', '😀', '\u3000', '\ud800',
    '.', '%', '!', '~', '+', '-', '_', '=', '\\', 'ABCDEFGHIJ234567', 'QUtJQQ==',
  ]
  for (let i = 0; i < 1500; i++) {
    // Mostly ASCII (the byte path), some with a non-ASCII unit (the walk), from 0 to ~2,000 units.
    const ascii = r() < 0.7
    const n = Math.floor(r() * 200)
    const s = Array.from({length: n}, () => {
      const w = words[Math.floor(r() * words.length)]!
      return ascii ? w.replace(/[^\x00-\x7f]/g, 'q') : w
    }).join(r() < 0.5 ? '' : ' ')
    for (const min of [1, 2, 9, 10, 11, 20, 21, 64]) {
      assert.deepEqual(segmentsOfAtLeast(s, min), forward(s, min), `${min} ${JSON.stringify(s)}`)
      assert.deepEqual(segmentsOfAtLeast(s, min, true), forward(s, min).filter(decodable), `decodable ${min} ${JSON.stringify(s)}`)
    }
    assert.equal(stripUnicodeWhitespace(s), s.replace(goSpace, ''), JSON.stringify(s))
  }
  // Exact multiples of the window and runs ending at the text's end.
  for (const s of ['0123456789', '0123456789 ', ' 0123456789', 'dog.123456', 'dog.1234567 abcdefghijk', 'a'.repeat(256), ' '.repeat(256), `${'b'.repeat(255)}\n`, `${'c '.repeat(300)}`]) {
    for (const min of [1, 10, 20]) {
      assert.deepEqual(segmentsOfAtLeast(s, min), forward(s, min), `${min} ${JSON.stringify(s)}`)
      assert.deepEqual(segmentsOfAtLeast(s, min, true), forward(s, min).filter(decodable), `decodable ${min} ${JSON.stringify(s)}`)
    }
    assert.equal(stripUnicodeWhitespace(s), s.replace(goSpace, ''))
  }
})

test('seed detector on long texts (plausible stretches only, a repeated token reusing its word) equals the reference splitter', () => {
  const r = prng(1212)
  for (const [list, label] of [[WORDS, 'synthetic'], [ENGLISH, 'english']] as const) {
    const det12 = createSeedPhraseDetector(list, 12, true)
    const det15 = createSeedPhraseDetector(list, 15, true)
    const phrases = [phraseFromEntropy(list, Buffer.alloc(16, 5)), phraseFromEntropy(list, Buffer.alloc(20, 6)), phraseFromEntropy(list, Buffer.alloc(32, 8))]
    let detected = 0
    for (let i = 0; i < 400; i++) {
      // A sorted join's shape: each value written as often as it occurs, one per line; values are
      // list words (sometimes upper-cased or with a Kelvin sign), numbers, phrases, long words,
      // short ones, and now and then a unit that changes the length when lower-cased (İ).
      const values: string[] = []
      for (let n = Math.floor(r() * 60); n > 0; n--) {
        const x = r()
        const v = x < 0.35 ? list[Math.floor(r() * 30)]! : x < 0.45 ? list[Math.floor(r() * 30)]!.toUpperCase().replace(/K/g, '\u212a')
          : x < 0.5 ? phrases[Math.floor(r() * phrases.length)]! : x < 0.6 ? String(Math.floor(r() * 1e4))
          : x < 0.65 ? 'description' : x < 0.7 ? 'of' : x < 0.72 ? 'İ' : x < 0.74 ? 'Σ' : `item-${Math.floor(r() * 9)}`
        for (let k = 1 + Math.floor(r() * (r() < 0.3 ? 40 : 3)); k > 0; k--) values.push(v)
      }
      // A phrase cut across values: its words each a value of their own, at the minimum count.
      if (r() < 0.3) values.push(...phrases[0]!.split(' '))
      const seps = ['\n', ' ', '-', ', ', ':', '\t', '|', ';']
      const joined = values.join(seps[Math.floor(r() * seps.length)])
      // Its all-ASCII form too (1,024+ units: first screened by the native run regex, the walk
      // starting where its first match does).
      for (const text of [joined, joined.replace(/[^\x00-\x7f]/g, '')]) {
        for (const [det, min] of [[det12, 12], [det15, 15]] as const) {
          const want = referenceDetect(list, min, text)
          if (want) detected++
          assert.equal(det.detect(text), want, `${label} ${min} ${JSON.stringify(text.slice(0, 200))}`)
        }
      }
    }
    assert.ok(detected > 40, `${label}: detected ${detected}`)
    // Long ASCII prose with no run of 12 words, then a phrase after it, before it, at its end.
    const prose = 'the build finished in 3 ms; the quick brown fox jumps over the lazy dog.\n'.repeat(40)
    for (const text of [prose, prose + phrases[0]!, phrases[0]! + '\n' + prose, prose + phrases[0]!.toUpperCase() + '\n', prose.replace(/\n/g, ' ') + phrases[1]!]) {
      assert.equal(det12.detect(text), referenceDetect(list, 12, text), `${label} prose ${text.length}`)
    }
  }
})

test('seed detector on prose of list words among other short words (tokens refused by their hash) equals the reference splitter', () => {
  const r = prng(3636)
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  for (const [list, label] of [[WORDS, 'synthetic'], [ENGLISH, 'english']] as const) {
    const known = new Set(list)
    const det12 = createSeedPhraseDetector(list, 12, true)
    const det15 = createSeedPhraseDetector(list, 15, true)
    const phrases = [phraseFromEntropy(list, Buffer.alloc(16, 9)), phraseFromEntropy(list, Buffer.alloc(20, 3))]
    // Tokens of a word's length and letters that are not words (most share no hash slot with a
    // word, some do), list words, and words in other cases (a Kelvin sign for K).
    const other = (): string => {
      for (;;) {
        let t = ''
        for (let n = 3 + Math.floor(r() * 6); n > 0; n--) t += letters[Math.floor(r() * 26)]
        if (!known.has(t)) return t
      }
    }
    const others = Array.from({length: 400}, other)
    let detected = 0
    for (let i = 0; i < 300; i++) {
      const share = r()
      const tokens: string[] = []
      for (let n = 20 + Math.floor(r() * 400); n > 0; n--) {
        const x = r()
        const w = list[Math.floor(r() * (r() < 0.5 ? 40 : list.length))]!
        tokens.push(x < share ? w : x < share + 0.05 ? w.toUpperCase().replace(/K/g, '\u212a') : others[Math.floor(r() * others.length)]!)
      }
      // A phrase at the start, inside, at the end, or cut by a changed word; or none.
      const p = phrases[Math.floor(r() * phrases.length)]!.split(' ')
      const plant = r()
      if (plant < 0.15) tokens.unshift(...p)
      else if (plant < 0.3) tokens.splice(Math.floor(r() * tokens.length), 0, ...p)
      else if (plant < 0.45) tokens.push(...p)
      else if (plant < 0.55) tokens.splice(Math.floor(r() * tokens.length), 0, ...p.map((w, k) => (k === 6 ? other() : w)))
      const seps = [' ', '\n', ', ', ' - ', ': ', '. ']
      let text = ''
      for (const t of tokens) text += (text === '' ? '' : seps[Math.floor(r() * (r() < 0.8 ? 1 : seps.length))]) + t
      for (const [det, min] of [[det12, 12], [det15, 15]] as const) {
        const want = referenceDetect(list, min, text)
        if (want) detected++
        assert.equal(det.detect(text), want, `${label} ${min} ${JSON.stringify(text.slice(0, 200))}`)
        // The junction form (no concatenation until the screen keeps it), cut anywhere.
        const cut = Math.floor(r() * (text.length + 1))
        assert.equal(det.detectJoined!(text.slice(0, cut), text.slice(cut)), want, `${label} ${min} joined at ${cut}`)
      }
    }
    assert.ok(detected > 60, `${label}: detected ${detected}`)
  }
})

test('seed detector on runs of list words that repeat with a period (1 to 80 words) equals the reference splitter, phrases planted or not', () => {
  const r = prng(4747)
  for (const [list, label] of [[WORDS, 'synthetic'], [ENGLISH, 'english']] as const) {
    const det12 = createSeedPhraseDetector(list, 12, true)
    const det15 = createSeedPhraseDetector(list, 15, true)
    const phrases = [phraseFromEntropy(list, Buffer.alloc(16, 4)), phraseFromEntropy(list, Buffer.alloc(24, 7))]
    let detected = 0
    let repeating = 0
    for (let i = 0; i < 240; i++) {
      // A block of 1–80 list words (from a few or from the whole list), or a phrase itself,
      // repeated to 50–700 words; a phrase planted at the start, inside (breaking the period), at
      // the end, with one word changed, or none.
      const period = 1 + Math.floor(r() * (r() < 0.5 ? 6 : 80))
      const pool = r() < 0.5 ? 8 : list.length
      const block = r() < 0.1 ? phrases[Math.floor(r() * phrases.length)]!.split(' ') : Array.from({length: period}, () => list[Math.floor(r() * pool)]!)
      const words: string[] = []
      for (let n = 50 + Math.floor(r() * 650); words.length < n;) words.push(...block)
      const p = phrases[Math.floor(r() * phrases.length)]!.split(' ')
      const plant = r()
      if (plant < 0.15) words.unshift(...p)
      else if (plant < 0.3) words.splice(Math.floor(r() * words.length), 0, ...p)
      else if (plant < 0.45) words.push(...p)
      else if (plant < 0.6) words.splice(Math.floor(r() * words.length), 0, ...p.map((w, k) => (k === 5 ? list[(list.indexOf(w) + 1) % list.length]! : w)))
      if (plant >= 0.6) repeating++
      const text = words.join(r() < 0.7 ? ' ' : '\n')
      for (const [det, min] of [[det12, 12], [det15, 15]] as const) {
        const want = referenceDetect(list, min, text)
        if (want) detected++
        assert.equal(det.detect(text), want, `${label} ${min} period ${block.length} ${JSON.stringify(text.slice(0, 200))}`)
      }
      assert.equal(det12.detect(text, true), referenceDetect(list, 12, text, true), `${label} varied, period ${block.length}`)
    }
    assert.ok(detected > 40 && repeating > 60, `${label}: detected ${detected}, runs with nothing planted ${repeating}`)
  }
})

test('the set entry of the WIF pattern (the key-start shape its validator needs) finds what the pattern regex does: keys whole, cased, cut, glued, in prose without spaces', () => {
  const settings = settingsWith([{name: 'Wif Warned', severity: 'low', regex: '[a-z0-9]{51,52}', validator: 'wif', action: 'warn'}])
  const fast = createDlpEngine(settings)
  // The reference: the set built from every pattern's own source.
  const bySource = {...fast, allSet: compileSet(fast.all.map((p) => p.source))}
  const none = {...fast, corePrefilter: null, allPrefilter: null, allSet: null}
  assert.ok(fast.allSet!.sources.includes(WIF_KEY_START) && !bySource.allSet!.sources.includes(WIF_KEY_START))
  const r = prng(5151)
  const keys = Array.from({length: 6}, (_, i) => wif(i % 2 === 0, `set-${i}`))
  const prose = 'the agent reads the file and then it writes a summary of what changed in the build with notes about tests that failed'.split(' ')
  const swapCase = (s: string): string => [...s].map((c) => (r() < 0.5 ? c.toUpperCase() : c.toLowerCase())).join('')
  let found = 0
  for (let i = 0; i < 600; i++) {
    const key = keys[Math.floor(r() * keys.length)]!
    const parts: string[] = []
    for (let n = 5 + Math.floor(r() * 80); n > 0; n--) parts.push(prose[Math.floor(r() * prose.length)]!)
    const at = Math.floor(r() * (parts.length + 1))
    const x = r()
    // The key as is, case-swapped, cut by a space, behind letters, a '5'/'K'/'L' start with a
    // non-base58 character inside, or nothing.
    if (x < 0.15) parts.splice(at, 0, key)
    else if (x < 0.25) parts.splice(at, 0, swapCase(key))
    else if (x < 0.35) parts.splice(at, 0, key.slice(0, 20), key.slice(20))
    else if (x < 0.45) parts.splice(at, 0, `l${'k'.repeat(Math.floor(r() * 40))}${key}`)
    else if (x < 0.55) parts.splice(at, 0, `${key.slice(0, 30)}0${key.slice(31)}`)
    else if (x < 0.6) parts.splice(at, 0, `K${'a'.repeat(51)}`, `5${'Z'.repeat(50)}`)
    const text = parts.join(r() < 0.7 ? ' ' : pick(r, ['\n', '', '.', ' . ']))
    const want = scanTextForDlp(none, text)
    assert.deepEqual(scanTextForDlp(fast, text), want, JSON.stringify(text))
    assert.deepEqual(scanTextForDlp(bySource, text), want, JSON.stringify(text))
    if (want.matches.some((m) => m.pattern === 'Bitcoin WIF Private Key')) found++
  }
  assert.ok(found > 100, `WIF findings ${found}`)
})

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!
}

test('text DLP skips the seed step below MIN_PHRASE_UNITS only: a phrase of one-unit words at exactly that length is found', () => {
  // 2,048 one-unit words: the shortest possible phrase is 12 words and 11 separators.
  const list = Array.from({length: 2048}, (_, i) => String.fromCharCode(0x4e00 + i))
  const settings = settingsWith([])
  settings.seedPhrase.wordList = list
  const engine = createDlpEngine(settings)
  const seedIn = (t: string): boolean => scanTextForDlp(engine, t).matches.some((m) => m.pattern === 'BIP-39 Seed Phrase')
  let shortest = 0
  for (let i = 0; i < 64; i++) {
    const phrase = phraseFromEntropy(list, Buffer.alloc(16, i))
    assert.equal(phrase.length, MIN_PHRASE_UNITS)
    assert.equal(seedIn(phrase), referenceDetect(list, 12, phrase), phrase)
    if (seedIn(phrase)) shortest++
    // One unit less: eleven words, or two words glued into an unknown token.
    for (const t of [phrase.slice(1), phrase.slice(0, -1), phrase.replace(' ', '')]) assert.equal(seedIn(t), false)
    // Its URL encoding is longer; decoded, it is the phrase again.
    assert.equal(seedIn(encodeURIComponent(phrase)), true)
  }
  assert.equal(shortest, 64)
})
