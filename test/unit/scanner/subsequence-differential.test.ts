/**
 * The §5.5 subsequence junction screen is an optimisation only. The oracle below is the
 * enumeration the URL scanner used before it (every ordered 2-, 3- and 4-value concatenation of
 * the first 20 values, normalised, deduplicated), kept here as the reference. On seeded random
 * and adversarial value lists built from real secret formats split across values, the screened
 * list is an in-order sub-list of the oracle's, every string it leaves out has no DLP match at
 * all, and both stages (core, configured + warnings) conclude identically; whole URL scans with
 * and without the screen are identical.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import RE2 from 're2'
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN, compileDlp, createDlpEngine, createUrlScanner, defaultScannerSettings, RateLimiter, scanUrl} from '../../../src/plugins/scanner/index.js'
import {FindingSet, runEngine, type DlpEngine} from '../../../src/plugins/scanner/dlp-engine.js'
import {regexCore} from '../../../src/plugins/scanner/regex-core.js'
import {subsequenceTexts} from '../../../src/plugins/scanner/subsequence.js'
import {alnum, anthropicKey, awsKeyId, base58chars, githubToken, hexLower, j, lowerAlnum, prng, splitSecret, upperAlnum, wif} from './fixtures.js'

/** The pre-screen enumeration, verbatim in behaviour: the reference. */
function oracle(values: readonly string[], normalize: (s: string) => string): string[] {
  if (values.length < 3) return []
  const first = values.slice(0, 20)
  const out: string[] = []
  const n = first.length
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      out.push(first[a]! + first[b]!)
      for (let c = b + 1; c < n; c++) {
        out.push(first[a]! + first[b]! + first[c]!)
        for (let d = c + 1; d < n; d++) out.push(first[a]! + first[b]! + first[c]! + first[d]!)
      }
    }
  }
  return [...new Set(out.map(normalize))]
}

/** Stages 10 and 11 over the subsequence texts, as the URL scanner runs them. */
function stages(engine: DlpEngine, texts: readonly string[], host: string): unknown {
  const core = new FindingSet()
  for (const t of texts) if (runEngine(engine, engine.core, t, 'subsequence', core, host) > 0) break
  const conf = new FindingSet()
  for (const t of texts) if (runEngine(engine, engine.configured, t, 'subsequence', conf, host) > 0) break
  return {core: core.enforced(), configured: conf.enforced(), warnings: conf.warnings}
}

/** Real secret formats (synthetic values), a few decoys, and patterns' edge shapes. */
function secrets(r: () => number): string[] {
  const s = Math.floor(r() * 1e6)
  return [
    awsKeyId(s), githubToken(s), anthropicKey(s), j('gl', 'pat-', alnum(22, s)), j('xo', 'xb-', lowerAlnum(20, s)), j('github', '_pat_', alnum(40, s)),
    j('sk', '-proj-', alnum(30, s)), j('AI', 'za', alnum(35, s)), j('SG.', alnum(22, s), '.', alnum(43, s)), j('xai', '-', alnum(84, s)),
    j('dop', '_v1_', hexLower(64, s)), j('0x', hexLower(64, s)), j('xp', 'rv', base58chars(108, s)), wif(true, String(s)), wif(false, String(s)),
    j('aws_secret', '_access_key', '= ', alnum(40, s)), j('eyJ', alnum(12, s), '.eyJ', alnum(12, s + 1), '.', alnum(20, s)),
    '4111 1111 1111 1111', '4111111111111112', 'GB82WEST12345698765432', '123-45-6789', j('-----BEGIN ', 'RSA PRIVATE KEY-----'),
    j('MY_', 'API_KEY', '=', alnum(12, s)), j('pass', 'word=', alnum(8, s)), j('NRAK-', upperAlnum(27, s)), j('hv', 's.', alnum(30, s)),
    j('ORD-', String(100000 + (s % 900000))), j('tok', String(10000000 + (s % 90000000))), j('warn-', 'abcde'),
  ]
}

const FILLER = ['open', '50', '2', 'alpha-12345', 'x', '=', '-', '.', 'id', 'ab_cd', 'v1.2', 'A', 'key', 'secret', 'token', '0x', 'eyJ', 'gh', 'p_', 'sk-', '9999', ' ']

/** A random query value list: fillers, whole and split secrets (pieces kept in order, fillers between). */
function valueList(r: () => number): string[] {
  const out: string[] = []
  const target = 3 + Math.floor(r() * 22)
  while (out.length < target) {
    const x = r()
    if (x < 0.45) out.push(FILLER[Math.floor(r() * FILLER.length)]!)
    else if (x < 0.6) out.push(alnum(1 + Math.floor(r() * 60), Math.floor(r() * 1e6)))
    else if (x < 0.9) {
      const ss = secrets(r)
      const pieces = splitSecret(r, ss[Math.floor(r() * ss.length)]!)
      for (const p of pieces) {
        out.push(p)
        if (r() < 0.3) out.push(FILLER[Math.floor(r() * FILLER.length)]!)
      }
    } else if (x < 0.95) out.push(secrets(r)[Math.floor(r() * 27)]!)
    else out.push(['é', 'ｓｋ', '\u200b', 'a\u0301', '\u212a'][Math.floor(r() * 5)]! + alnum(5, Math.floor(r() * 1e6)))
  }
  return out.filter((v) => v !== '')
}

function settingsWith(): ReturnType<typeof defaultScannerSettings> {
  const settings = defaultScannerSettings()
  settings.maxRequestsPerMinute = 1_000_000
  settings.dlp.patterns = [
    {name: 'Order Code', severity: 'medium', regex: '\\bORD-[0-9]{6}\\b', action: 'warn'},
    {name: 'Anchored Token', severity: 'high', regex: '^tok[0-9]{8}$'},
    {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'},
    {name: 'Exempted', severity: 'high', regex: 'alpha-1', exemptDomains: ['*.example.org']},
  ]
  return settings
}

test('regexCore: every built-in DLP pattern has a core of bounded length that matches wherever the pattern does', () => {
  const r = prng(9001)
  const all = [...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS, ETHEREUM_ADDRESS_PATTERN]
  const compiled = all.map((p) => {
    const re = compileDlp(p.regex)
    const core = regexCore(re.source, 20)
    assert.ok(core !== null, `${p.name} has a core`)
    assert.ok(core.maxLen <= 21, `${p.name}: core at most 21 code points, got ${core.maxLen}`)
    assert.doesNotMatch(core.source, /\\[bBAz]|[$^]/, `${p.name}: no assertion in ${core.source}`)
    return {name: p.name, re, core: new RE2(core.source, 'u')}
  })
  let matched = 0
  for (let i = 0; i < 400; i++) {
    const ss = secrets(r)
    const text = [FILLER[i % FILLER.length], ss[i % ss.length], alnum(i % 30, i)].join(i % 2 === 0 ? '' : ' ')
    for (const c of compiled) {
      if (!c.re.test(text)) continue
      matched++
      assert.ok(c.core.test(text), `${c.name}: core misses ${JSON.stringify(text)}`)
    }
  }
  assert.ok(matched > 300, `the texts exercised the patterns (${matched} matches)`)
})

test('regexCore: flags, alternatives and assertions; unsupported syntax has no core', () => {
  const c = regexCore('(?i)\\bkey(?-i:ABC)[0-9]{3,}$', 20)!
  assert.ok(new RE2(c.source, 'u').test('xKEYABC1234x'), 'assertions dropped, (?i) kept')
  assert.ok(!new RE2(c.source, 'u').test('keyabc123'), '(?-i:…) stays case-sensitive')
  const alt = regexCore('(?:5[a-z]{50}|[KL][0-9]{51})', 20)!
  assert.ok(alt.maxLen <= 20, 'each alternative of a whole-pattern group gets its own run')
  const unbounded = regexCore('x+y*z+', 20)!
  assert.ok(new RE2(unbounded.source, 'u').test('xxxxxyyyyyzzz'))
  for (const bad of ['\\Qa.b\\E', '(a)\\1', '(?U)a+', '(?=a)b', 'a**', '[a-', '(ab']) assert.equal(regexCore(bad, 20), null, bad)
})

test('subsequence screen: an in-order sub-list of the full enumeration; every string left out has no DLP match; same stage results', () => {
  const settings = settingsWith()
  const engine = createDlpEngine(settings)
  assert.ok(engine.junctionScreen !== null, 'the default and configured patterns all have cores')
  const norm = engine.normalizer.forDlp
  const r = prng(515)
  let found = 0
  for (let i = 0; i < 120; i++) {
    const values = valueList(r)
    const host = r() < 0.2 ? 'api.example.org' : 'example.com'
    const full = oracle(values, norm)
    const fast = subsequenceTexts(values, engine.junctionScreen, engine.lines, norm)
    // In-order sub-list.
    let k = 0
    for (const t of fast) {
      while (k < full.length && full[k] !== t) k++
      assert.ok(k < full.length, `kept string not in the full list, in order (case ${i})`)
      k++
    }
    const keptSet = new Set(fast)
    for (const t of full) {
      if (keptSet.has(t)) continue
      const out = new FindingSet()
      runEngine({...engine, allSet: null, corePrefilter: null, allPrefilter: null}, engine.all, t, 'x', out)
      assert.equal(out.enforcedCount + out.warnings.length, 0, `left out a string with a match (case ${i}, values ${JSON.stringify(values)})`)
    }
    const a = stages(engine, full, host)
    assert.deepEqual(stages(engine, fast, host), a, `case ${i}`)
    if (JSON.stringify(a) !== JSON.stringify({core: [], configured: [], warnings: []})) found++
  }
  assert.ok(found > 30, `split secrets were found across values (${found} cases)`)
})

test('subsequence screen: WIF, IBAN and card numbers by their runs — no left-out string where one of their regexes matches, random tokens and ids leave nothing', () => {
  const engine = createDlpEngine(settingsWith())
  const screen = engine.junctionScreen!
  assert.equal(screen.runs?.length, 3, 'the catalogue WIF, IBAN and card patterns are screened by their runs')
  const norm = engine.normalizer.forDlp
  const wifRe = engine.all.find((p) => p.name === 'Bitcoin WIF Private Key')!.re
  const ibanRe = engine.all.find((p) => p.name === 'IBAN')!.re
  const cardRe = engine.all.find((p) => p.name === 'Credit Card Number')!.re
  const r = prng(3131)
  const ibans = ['GB82WEST12345698765432', 'DE89370400440532013000', 'FR1420041010050500013M02606', 'NL91ABNA0417164300']
  const cards = ['4111111111111111', '4111-1111-1111-1111', '5500 0000 0000 0004', '378282246310005']
  let kept = 0
  for (let i = 0; i < 60; i++) {
    // Random letters and digits of 6 to 40 characters (runs of either class across junctions),
    // with `_` and `-` here and there, and a key, an IBAN or a card number cut over two or three of them.
    const values = Array.from({length: 6 + Math.floor(r() * 14)}, (_, k) => {
      const x = alnum(6 + Math.floor(r() * 35), i * 100 + k)
      return r() < 0.15 ? `${x.slice(0, 3)}${r() < 0.5 ? '_' : '-'}${x.slice(3)}` : x
    })
    const secret = i % 3 === 0 ? wif(i % 6 === 0, `runs${i}`) : i % 3 === 1 ? ibans[i % ibans.length]! : cards[i % cards.length]!
    const at = Math.floor(r() * (values.length - 2))
    const cuts = [Math.floor(secret.length / 3), Math.floor((2 * secret.length) / 3)]
    values.splice(at, 3, secret.slice(0, cuts[0]), secret.slice(cuts[0], cuts[1]), secret.slice(cuts[1]))
    const full = oracle(values, norm)
    const fast = new Set(subsequenceTexts(values, screen, engine.lines, norm))
    kept += fast.size
    for (const t of full) {
      if (fast.has(t)) continue
      assert.ok(!wifRe.test(t) && !ibanRe.test(t) && !cardRe.test(t), `left out a string the WIF, IBAN or card regex matches: ${JSON.stringify(t)} (values ${JSON.stringify(values)})`)
    }
    assert.deepEqual(stages(engine, [...fast], 'example.com'), stages(engine, full, 'example.com'), `case ${i}`)
  }
  assert.ok(kept > 100, `strings holding the cut key, IBAN or card number were kept (${kept})`)
  // The measured case: 20 query values of 12 random letters and digits (12 ms of scanning when
  // their WIF and IBAN cores kept nearly every concatenation).
  const tokens = Array.from({length: 20}, (_, k) => alnum(12, 500 + k).replace(/0/g, '1'))
  assert.deepEqual(subsequenceTexts(tokens, screen, engine.lines, norm).filter((t) => t.length > 34), [])
  // Ids of 13 digits between dots: the card pattern's core (twelve digits) matched every one of
  // them, and kept all 6,175 concatenations; their runs of digits stay under the card's 15.
  const ids = Array.from({length: 20}, (_, k) => `.${1_000_000_000_000 + k * 7919}.`)
  assert.deepEqual(subsequenceTexts(ids, screen, engine.lines, norm), [])
  // A card number cut over two of those values is one run of 16 digits wherever they are joined:
  // those joins, and only those, are kept, and the card regex matches each.
  const cut = [...ids.slice(0, 6), '.4111111', '111111111.', ...ids.slice(6, 12)]
  const withCard = subsequenceTexts(cut, screen, engine.lines, norm)
  assert.ok(withCard.length > 0 && withCard.every((t) => t.includes('.4111111111111111.') && cardRe.test(t)), JSON.stringify(withCard.slice(0, 3)))
  assert.equal(withCard.length, oracle(cut, norm).filter((t) => t.includes('4111111111111111')).length)
})

test('subsequence screen: clean query values (words, numbers, ids) leave nothing to scan', () => {
  const engine = createDlpEngine(settingsWith())
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet']
  for (const [n, shape] of [[20, (i: number) => `${words[i % 10]}-${(i * 7919) % 100000}`], [20, (i: number) => `v${i}`], [12, (i: number) => `item ${i} of the list, page ${i * 3}`]] as const) {
    const values = Array.from({length: n}, (_, i) => shape(i))
    assert.ok(oracle(values, engine.normalizer.forDlp).length > 700)
    assert.deepEqual(subsequenceTexts(values, engine.junctionScreen, engine.lines, engine.normalizer.forDlp), [], JSON.stringify(values))
  }
})

test('subsequence screen: whole URL scans with and without it are identical', async () => {
  const settings = settingsWith()
  const fast = createDlpEngine(settings)
  const slow = {...fast, junctionScreen: null}
  const scanners = [fast, slow].map((e) => createUrlScanner(settings, e))
  const ctx = {resolver: async () => ['93.184.216.34'], rateLimiter: new RateLimiter({nowNanos: () => 0n})}
  const r = prng(8080)
  let blocked = 0
  for (let i = 0; i < 100; i++) {
    const values = valueList(r)
    const host = r() < 0.2 ? 'api.example.org' : 'example.com'
    const q = values.map((v, n) => `k${n}=${r() < 0.3 ? encodeURIComponent(v) : v.replace(/[^A-Za-z0-9._~=:-]/g, (c) => encodeURIComponent(c))}`).join('&')
    const url = `https://${host}/p?${q}`
    const [x, y] = [await scanUrl(url, {...ctx, scanner: scanners[0]!}), await scanUrl(url, {...ctx, scanner: scanners[1]!})]
    assert.deepEqual(x, y, url)
    if (!x.allowed) blocked++
  }
  assert.ok(blocked > 20, `many of the URLs were blocked (${blocked})`)
})
