/**
 * The split-secret pair pass (mcp.md §4.2) screens its junction texts (`joinedTextsToScan`)
 * before scanning them. The oracle is the pass as it was: every junction text scanned in order,
 * warnings collected, the first text with an enforced finding wins. On generated argument sets
 * — random printable and non-ASCII values, real secret formats split at every position, their
 * base64/hex encodings split, canaries, file secrets, a seed phrase split at token boundaries,
 * configured (warn, anchored) patterns — every text the screen leaves out has no finding and no
 * warning at all, and the screened pass ends with the oracle's findings and warnings.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {junctionPairs, JUNCTION_WINDOW, junctionWindow} from '../../../src/plugins/mcp/index.js'
import {junctionTexts} from '../../helpers/mcp-split-oracle.js'
import {createDlpEngine, defaultScannerSettings, joinedTextsToScan, junctionPairsToScan, scanTextForDlp, type DlpEngine, type DlpFinding} from '../../../src/plugins/scanner/index.js'
import {alnum, anthropicKey, awsKeyId, base58chars, githubToken, hexLower, j, lowerAlnum, prng, upperAlnum, wif} from '../scanner/fixtures.js'

const CANARY = j('pl-canary-', 'x9Q2mZ7wK4')
const FILE_SECRET = j('file-secret-', 'T7hGq2LmZx9Vw3')

function engineFor(custom: boolean): DlpEngine {
  const s = defaultScannerSettings()
  s.canaryTokens = [{name: 'deploy', value: CANARY}]
  s.dlp.fileSecrets = [FILE_SECRET]
  if (custom) {
    s.dlp.patterns = [
      {name: 'Warned', severity: 'low', regex: 'warn-[a-z]{5}', action: 'warn'},
      {name: 'Anchored', severity: 'high', regex: '^start-[0-9]{6}$'},
      {name: 'Order Id', severity: 'medium', regex: 'ORD-[0-9]{6}\\b'},
    ]
  }
  return createDlpEngine(s)
}

interface PassResult {
  readonly matches: DlpFinding[]
  readonly warnings: string[]
}

/** The pass before the screen: the reference. */
function oraclePass(engine: DlpEngine, vals: readonly string[], window: number | null): PassResult {
  const warnings = new Set<string>()
  for (const t of junctionTexts(vals, window)) {
    const r = scanTextForDlp(engine, t.text)
    for (const w of r.warnings) warnings.add(w.pattern)
    if (r.matches.length > 0) return {matches: r.matches, warnings: [...warnings]}
  }
  return {matches: [], warnings: [...warnings]}
}

/**
 * The screened pass as `splitSecret` runs it (junction pairs, only the kept texts built, each
 * distinct text scanned once); also checks that every pair left out is clean, and that the
 * text-based screen (`joinedTextsToScan`) agrees with the pair-based one. Returns the skip count.
 */
function screenedPass(engine: DlpEngine, vals: readonly string[], window: number | null): PassResult & {skipped: number} {
  const pairs = [...junctionPairs(vals, window)]
  const keep = junctionPairsToScan(engine, pairs)
  const texts = pairs.map(({x, y, left, right}) => ({text: x + y, split: x.length, left, right}))
  assert.deepEqual(joinedTextsToScan(engine, texts), keep, 'the text-based screen gives the pair-based answers')
  const warnings = new Set<string>()
  const scanned = new Set<string>()
  let skipped = 0
  let result: PassResult | null = null
  for (let k = 0; k < texts.length; k++) {
    if (!keep[k]) {
      const r = scanTextForDlp(engine, texts[k]!.text)
      assert.deepEqual({m: r.matches, w: r.warnings}, {m: [], w: []}, `left out but not clean: ${JSON.stringify(texts[k])}`)
      skipped++
      continue
    }
    if (result !== null || scanned.has(texts[k]!.text)) continue
    scanned.add(texts[k]!.text)
    const r = scanTextForDlp(engine, texts[k]!.text)
    for (const w of r.warnings) warnings.add(w.pattern)
    if (r.matches.length > 0) result = {matches: r.matches, warnings: [...warnings]}
  }
  return {...(result ?? {matches: [], warnings: [...warnings]}), skipped}
}

function secrets(seed: number): string[] {
  return [
    awsKeyId(seed), githubToken(seed), anthropicKey(seed), j('gl', 'pat-', alnum(22, seed)), j('xo', 'xb-', lowerAlnum(20, seed)),
    j('sk', '-proj-', alnum(30, seed)), j('AI', 'za', alnum(35, seed)), j('SG.', alnum(22, seed), '.', alnum(43, seed)),
    j('dop', '_v1_', hexLower(64, seed)), j('0x', hexLower(64, seed)), j('xp', 'rv', base58chars(108, seed)),
    wif(true, String(seed)), wif(false, String(seed)), '4111 1111 1111 1111', 'GB82WEST12345698765432', '123-45-6789',
    j('-----BEGIN ', 'RSA PRIVATE KEY-----'), j('MY_', 'API_KEY', '=', alnum(12, seed)), j('NRAK-', upperAlnum(27, seed)),
    j('hv', 's.', alnum(30, seed)), CANARY, FILE_SECRET, 'ORD-123456', 'warn-abcde', 'start-123456',
  ]
}

const WORDS = ['value', 'path', 'the', 'quick', 'brown', 'fox', 'file.txt', '/home/user/x', 'a-b', 'x_y', '100%', 'a+b', 'KEY', 'lorem', 'ipsum', 'e=mc2', 'ünïcode', 'ｆｕｌｌ', '0x', 'sk', 'ghp']

function randomValue(r: () => number): string {
  const n = Math.floor(r() * 60)
  const parts: string[] = []
  for (let i = 0; i < n; i++) {
    const x = r()
    parts.push(x < 0.7 ? WORDS[Math.floor(r() * WORDS.length)]! : x < 0.85 ? alnum(1 + Math.floor(r() * 30), Math.floor(r() * 1e6)) : String(Math.floor(r() * 1e6)))
  }
  return parts.join(r() < 0.7 ? ' ' : r() < 0.5 ? '' : ', ')
}

test('split pass: the screen leaves out only clean texts and the pass concludes as the oracle (random, secrets split, encoded, canaries)', () => {
  const engines = [engineFor(false), engineFor(true)]
  const r = prng(20261122)
  let sets = 0
  let dirty = 0
  let skipped = 0
  const check = (vals: string[]): void => {
    for (const engine of engines) {
      for (const window of [junctionWindow({dlp: engine}), JUNCTION_WINDOW, 12]) {
        const want = oraclePass(engine, vals, window)
        const got = screenedPass(engine, vals, window)
        assert.deepEqual({matches: got.matches, warnings: got.warnings}, want, JSON.stringify(vals))
        sets++
        skipped += got.skipped
        if (want.matches.length > 0) dirty++
      }
    }
  }
  // Random values.
  for (let i = 0; i < 40; i++) check(Array.from({length: 2 + Math.floor(r() * 5)}, () => randomValue(r)))
  // Every secret split at every position over two non-adjacent values, with filler around.
  for (const s of secrets(7)) {
    for (let k = 1; k < s.length; k += s.length > 40 ? 3 : 1) {
      const pad = randomValue(r)
      check([pad + ' ' + s.slice(0, k), 'unrelated words here', s.slice(k) + ' ' + pad])
      if (k % 5 === 1) check([s.slice(k), randomValue(r), s.slice(0, k)])
    }
  }
  // Encoded secrets (base64, hex) split at every position.
  for (const s of [awsKeyId(3), githubToken(3), CANARY]) {
    for (const enc of [Buffer.from(`key=${s}`).toString('base64'), Buffer.from(`key=${s}`).toString('hex')]) {
      for (let k = 1; k < enc.length; k += 2) check([enc.slice(0, k), 'plain filler text', enc.slice(k)])
    }
  }
  // Literal-secret and canary needles across the junction: upper-case hex (searched in the
  // lower-cased text), base32, the AWS documentation example in a doc context.
  for (const enc of [Buffer.from(CANARY).toString('hex').toUpperCase(), Buffer.from(FILE_SECRET).toString('hex').toUpperCase().match(/../g)!.join(':')]) {
    for (let k = 1; k < enc.length; k += 3) check(['words ' + enc.slice(0, k), 'plain filler text', enc.slice(k) + ' words'])
  }
  const doc = 'example credentials: AKIAIOSFODNN7EXAMPLE'
  for (let k = 1; k < doc.length; k += 2) check([doc.slice(0, k), 'filler', doc.slice(k)])
  // A checksum-valid seed phrase split at every token boundary.
  const phrase = [...Array(11).fill('abandon'), 'about']
  for (let k = 1; k < 12; k++) check([phrase.slice(0, k).join(' ') + ' ', 'value 1 value 1', phrase.slice(k).join(' ')])
  // The bench's shape: 20 long repetitive values.
  check(Array.from({length: 20}, (_, i) => `value ${i} `.repeat(50)))
  // Long runs of the WIF shape's alphabet on both sides of the junctions (random base58, prose
  // with its spaces gone): their pairs pass the screen's WIF entry and are checked pattern by
  // pattern; a real key among them, split across values, is still found.
  for (let k = 0; k < 6; k++) {
    const key = wif(k % 2 === 0, `run${k}`)
    const cut = 5 + k * 8
    check([base58chars(120, k), 'theagentreadsthefileandthenitwritesasummaryofwhatchangedinthebuildwithnotes', base58chars(90, k + 9)])
    check([base58chars(60, k) + ' ' + key.slice(0, cut), base58chars(200, k + 3), key.slice(cut) + ' ' + base58chars(40, k + 5)])
    check([key.slice(0, cut), base58chars(80, k + 7), key.slice(cut)])
  }
  assert.ok(dirty > 100, `dirty ${dirty} of ${sets}`)
  assert.ok(skipped > sets, `the screen left out ${skipped} texts over ${sets} passes`)
})

test('split pass: a WIF key split at every position, its start near the junction or far from it, is found as the oracle finds it', () => {
  // The screen decides a WIF key across a junction from the two sides' base58 runs (no chain
  // long enough to hold one is walked): every cut of a key, behind and before other base58
  // runs, prose, spaces or nothing.
  const engine = engineFor(false)
  const window = junctionWindow({dlp: engine})
  let found = 0
  for (const [k, key] of [wif(true, 'cut-a'), wif(false, 'cut-b'), wif(true, 'cut-c'), wif(false, 'cut-d')].entries()) {
    for (const [before, after] of [['', ''], ['note: ', ' end'], [base58chars(30, k), ''], ['', base58chars(30, k + 1)], ['the agent reads ', ' and writes']]) {
      for (let cut = 1; cut < key.length; cut++) {
        const vals = [before + key.slice(0, cut), 'plain filler text', key.slice(cut) + after]
        const want = oraclePass(engine, vals, window)
        assert.deepEqual({matches: screenedPass(engine, vals, window).matches}, {matches: want.matches}, JSON.stringify(vals))
        if (want.matches.some((m) => m.pattern === 'Bitcoin WIF Private Key')) found++
      }
    }
  }
  assert.ok(found > 400, `WIF keys found ${found}`)
})
