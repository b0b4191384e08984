/**
 * The pattern set's layout (src/plugins/scanner/pattern-set.ts) changes what is walked when, never
 * an answer: on real prose, its whitespace-less and dot-less forms, the vendored corpora's
 * phrases and seeded texts built around each gap pattern's keywords, the laid-out set reports
 * exactly the indices one RE2::Set over the same sources reports.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import RE2 from 're2'
import {createScanner, defaultScannerSettings, PRESET_RESPONSE_PATTERNS} from '../../../src/plugins/scanner/index.js'
import {compileSet, gapParts, isDenseText, setLayout, setMatches} from '../../../src/plugins/scanner/pattern-set.js'
import {CORE_DLP_EXTRA, DLP_CASES, RESPONSE_CASES} from './catalogue-cases.js'
import {prng} from './fixtures.js'
import {repoPath} from '../../helpers/vectors.js'

const DISCORD = '(?i)[MN][A-Za-z0-9]{23,}\\.[A-Za-z0-9\\-_]{6}\\.[A-Za-z0-9\\-_]{27,}'
const SEND = '(?is)\\b(send|provide|share)\\b.{0,80}\\b(password|token|api[_ -]?key)\\b'

/** The sets a balanced-like scanner walks: DLP (defaults and a configured pattern) and the joint injection sets. */
function shippedSets(): Array<[string, string[]]> {
  const settings = defaultScannerSettings()
  settings.dlp.patterns = [{name: 'Wif Shape', severity: 'low', regex: '[a-z0-9]{51,52}', action: 'warn'}]
  settings.responseScanning.patterns = [...PRESET_RESPONSE_PATTERNS]
  const sc = createScanner(settings)
  const joint = sc.response.joint!
  return [
    ['dlp', [...sc.dlp.allSet!.sources]],
    ['injection pair', [...joint.pair.sources]],
    ['injection fold', [...joint.fold.sources]],
  ]
}

/** 8 KiB slices of the repository's documents: real prose, code and tables. */
function prose(): string[] {
  const dir = repoPath('docs')
  const all = readdirSync(dir).filter((f) => f.endsWith('.md')).sort().map((f) => readFileSync(`${dir}/${f}`, 'utf8')).join('\n')
  const out: string[] = []
  for (let at = 0; at < all.length && out.length < 40; at += 8192 * 7) out.push(all.slice(at, at + 8192))
  return out
}

/** Words of the sources (their keywords), for texts that arm the guards and walk the gap sets. */
function keywords(sources: readonly string[]): string[] {
  return [...new Set(sources.flatMap((s) => s.match(/[a-z][a-z_ -]{2,}[a-z]/giu) ?? []).map((w) => w.replace(/_/gu, ' ')))]
}

function seeded(r: () => number, words: readonly string[], n: number): string[] {
  const filler = 'the agent reads a file and then writes notes about what changed'.split(' ')
  const out: string[] = []
  for (let k = 0; k < n; k++) {
    let t = ''
    const parts = 2 + Math.floor(r() * 6)
    for (let p = 0; p < parts; p++) {
      t += words[Math.floor(r() * words.length)]!
      // Gaps of 0 to ~120 characters: either side of the 40/60/80 bounds.
      const gap = Math.floor(r() * 24)
      for (let g = 0; g < gap; g++) t += (r() < 0.2 ? '\n' : ' ') + filler[Math.floor(r() * filler.length)]!
      t += r() < 0.3 ? ', ' : ' '
    }
    out.push(r() < 0.2 ? t.replace(/\s+/gu, '') : t)
  }
  return out
}

test('a laid-out set answers as one RE2::Set: the shipped sets on prose, its forms, the corpora and seeded texts', () => {
  const r = prng(3636)
  const docs = prose()
  const texts = [
    ...docs, ...docs.map((t) => t.replace(/\s+/gu, '')), ...docs.map((t) => t.split('.').join('')),
    ...[DLP_CASES, CORE_DLP_EXTRA, RESPONSE_CASES].flatMap((cases) => Object.values(cases).flat()),
  ]
  let walkedGapSets = 0
  for (const [name, sources] of shippedSets()) {
    const one = new RE2.Set(sources, 'u')
    const laid = compileSet(sources)!
    assert.ok(!(laid instanceof RE2.Set), `${name}: laid out (it has gap patterns)`)
    assert.deepEqual(laid.sources, one.sources, `${name}: the sources as RE2 reads them`)
    for (const t of [...texts, ...seeded(r, keywords(sources), 1500)]) {
      const want = one.match(t)
      assert.deepEqual(laid.match(t), want, `${name}: ${JSON.stringify(t.slice(0, 120))}`)
      assert.deepEqual(laid.match(Buffer.from(t)), want)
      if (want.some((i) => setLayout(sources).gaps.some((g) => g.indices.includes(i)))) walkedGapSets++
    }
  }
  assert.ok(walkedGapSets > 300, `gap patterns matched in ${walkedGapSets} texts`)
})

test('dense texts (base64, token alphabets) are walked by the main set in two halves, with the answer of one RE2::Set', () => {
  const r = prng(4848)
  const bytes = (n: number): Buffer => Buffer.from(Array.from({length: n}, () => Math.floor(r() * 256)))
  // Tokens of the DLP catalogue and injection phrases, planted in base64 and base64url images.
  const planted = [...[DLP_CASES, CORE_DLP_EXTRA, RESPONSE_CASES].flatMap((cases) => Object.values(cases).flat())]
  const texts: string[] = []
  for (let k = 0; k < 20; k++) {
    let t = bytes(8000 + Math.floor(r() * 30000)).toString(k % 3 === 0 ? 'base64url' : 'base64')
    for (let p = Math.floor(r() * 4); p > 0; p--) {
      const at = Math.floor(r() * t.length)
      t = t.slice(0, at) + (r() < 0.5 ? '\n' : '') + planted[Math.floor(r() * planted.length)]! + t.slice(at)
    }
    texts.push(t, `{"model":"m","data":"${t}","text":"What does this show?"}`)
  }
  let dense = 0
  let found = 0
  const sets = shippedSets()
  // A set with no gap pattern is laid out too when it asks for halves.
  const plain = sets[0]![1].filter((source) => gapParts(source) === 'no gap')
  assert.ok(!(compileSet(plain, {halvesOnDenseText: true}) instanceof RE2.Set))
  for (const [name, sources] of [...sets, ['dlp without gap patterns', plain] as [string, string[]]]) {
    const one = new RE2.Set(sources, 'u')
    const laid = compileSet(sources, {halvesOnDenseText: true})!
    for (const t of texts) {
      const b = Buffer.from(t)
      if (isDenseText(b)) dense++
      const want = one.match(b)
      if (want.length > 0) found++
      assert.deepEqual(laid.match(b), want, `${name}: ${JSON.stringify(t.slice(0, 80))}`)
      assert.deepEqual(laid.match(t), want)
    }
  }
  assert.equal(dense, 4 * texts.length, 'every text read as dense')
  assert.ok(found > 25, `matches in ${found} texts`)
  // Prose, JSON of ids and lower-case hex are not dense: one walk of one set.
  const ids = JSON.stringify(Array.from({length: 300}, (_, i) => ({id: bytes(16).toString('hex'), n: i})))
  for (const t of [...prose(), ids, bytes(20000).toString('hex')]) assert.equal(isDenseText(Buffer.from(t)), false, t.slice(0, 60))
})

test('the shipped injection sets keep every gap pattern out of the set each text walks, each guarded, at most five to a set, guarded and unguarded apart', () => {
  for (const [name, sources] of shippedSets()) {
    const layout = setLayout(sources)
    for (const e of layout.main) assert.equal(gapParts(e.source), 'no gap', `${name}: ${e.source}`)
    for (const set of layout.gapSets) {
      const guarded = set.filter((g) => layout.gaps[g]!.guards > 0)
      assert.ok(set.length >= 1 && set.length <= 5 && (guarded.length === 0 || guarded.length === set.length), JSON.stringify(set))
    }
    if (name !== 'dlp') {
      assert.ok(layout.gaps.length >= 5, `${name}: ${layout.gaps.length} gap patterns`)
      assert.deepEqual(layout.gaps.filter((g) => g.guards === 0).map((g) => g.source), [], `${name}: every gap pattern guarded`)
    } else {
      // The Discord token's leading counter is a gap; the configured bare shape has no part to guard it.
      assert.ok(layout.gaps.some((g) => g.source.includes('[MN][A-Za-z0-9]{23,}') && g.guards === 1))
      assert.ok(layout.gaps.some((g) => g.source === '(?i)[a-z0-9]{51,52}' && g.guards === 0))
    }
  }
})

test('gapParts: cut at wide gaps and leading counters, only where every part is necessary', () => {
  assert.equal(gapParts('(?i)gh[pousr]_[A-Za-z0-9_]{36,}'), 'no gap', 'a counter after a keyword')
  assert.equal(gapParts('(?i)(AKIA|ASIA)[A-Z0-9]{16,}'), 'no gap', 'a group before the counter')
  assert.equal(gapParts('(?i)ab.{0,8}cd'), 'no gap', 'a narrow gap')
  assert.deepEqual(gapParts(SEND), ['(?is)\\b(send|provide|share)\\b', '(?is)\\b(password|token|api[_ -]?key)\\b'])
  assert.deepEqual(gapParts('(?s)a[^x]{0,40}?b[\\s\\S]{2,90}c\\S{0,30}d'), ['(?s)a', '(?s)b', '(?s)c', '(?s)d'])
  assert.deepEqual(gapParts(DISCORD), ['(?i)[MN]', '(?i)\\.[A-Za-z0-9\\-_]{6}\\.'])
  assert.equal(gapParts('[a-z0-9]{51,52}'), null, 'nothing left to guard with')
  assert.equal(gapParts('(a.{0,80}b)'), null, 'a gap inside a group')
  assert.deepEqual(gapParts('x.{0,80}(?:y\\d{20})z'), ['x', '(?:y\\d{20})z'], 'a wide count inside a group stays in its part')
  assert.equal(gapParts('a.{0,80}b|c'), null, 'a top-level alternation')
  assert.equal(gapParts('a.{0,80}(?i)b'), null, 'a flag changed midway')
  // Classes and escapes are read whole: a `]` first, a POSIX class, `\Q…\E`, `\p{…}`.
  assert.deepEqual(gapParts('[]x].{0,80}[[:alpha:]]\\Q.{0,80}\\E.{0,99}\\p{L}'), ['[]x]', '[[:alpha:]]\\Q.{0,80}\\E', '\\p{L}'])
  // One-letter classes and hex and octal codes are atoms too: no part ends inside one.
  assert.deepEqual(gapParts('ab\\pL.{0,80}\\x41\\101.{0,80}cd'), ['ab\\pL', '\\x41\\101', 'cd'])
})

test('duplicates answer for every index; an unguarded gap set is walked on every text; a bad source leaves no set', () => {
  const sources = [SEND, 'hello', SEND, '[a-z0-9]{51,52}', 'hello', DISCORD]
  const one = new RE2.Set(sources, 'u')
  const laid = compileSet(sources)!
  const layout = setLayout(sources)
  assert.equal(layout.main.filter((e) => e.indices.length > 0).length, 1, 'hello, once')
  assert.equal(layout.gaps.length, 3)
  assert.deepEqual(layout.gapSets, [[0, 2], [1]], 'guarded and unguarded apart')
  const many = setLayout(Array.from({length: 7}, (_, k) => `[a-z${k}]{40,50}`))
  assert.deepEqual(many.gapSets, [[0, 1, 2, 3, 4], [5, 6]], 'unguarded: five to a set')
  // Parts that guard nothing are not guards: an assertion alone, a single atom.
  const hashes = setLayout(['\\b[a-f0-9]{64}\\b', '\\b[MN][A-Za-z0-9]{23,}\\.[a-z]{6}\\.[a-z]{27,}\\b'])
  assert.deepEqual(hashes.gaps.map((g) => g.guards), [0, 1])
  assert.deepEqual(hashes.main.map((e) => e.source), ['\\.[a-z]{6}\\.'])
  const long = 'x'.repeat(30) + '0123456789'.repeat(5) + 'y'
  for (const t of ['hello', 'please send the token', '\ud800 send \udfff the token \ud83d',  `send ${'z '.repeat(45)} token`, long, 'n' + 'a'.repeat(30) + '.abcdef.' + 'b'.repeat(27), 'nothing here']) {
    assert.deepEqual(laid.match(t), one.match(t), t)
  }
  assert.deepEqual(laid.match(`hello send it the token ${long}`), [0, 1, 2, 3, 4])
  assert.equal(compileSet(['ok', 'a.{0,80}(']), null)
  assert.equal(compileSet([]), null)
  assert.equal(setMatches(null, 'x'), null)
  // Without gap patterns or duplicates: RE2's own set, unwrapped.
  assert.ok(compileSet(['a', 'b']) instanceof RE2.Set)
})
