import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {emitSignedYaml, JsonNumber, parseStrictYaml, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {parseCanonicalYaml} from '../../../src/plugins/canonical/strict-yaml-fast.js'
import {prng as rng} from '../../helpers/prng.js'
import {repoPath} from '../../helpers/vectors.js'

// The fast path is an accelerator for our emitter's subset: wherever it answers, the answer must
// be the full strict parser's, in document order; wherever the full parser refuses, it must not
// answer. Checked on every YAML file in the repository, on emitter round trips of random trees,
// and on thousands of seeded mutations of a real contract.

/** Insertion-ordered dump (Map entries in order, numbers by their text). */
function dump(v: JsonValue): unknown {
  if (v instanceof Map) return {map: [...v].map(([k, x]) => [k, dump(x)])}
  if (Array.isArray(v)) return {seq: v.map(dump)}
  if (v instanceof JsonNumber) return {num: v.text}
  return v
}

type Outcome = {ok: true; value: unknown} | {ok: false; error: string}

function outcome(text: string, fastPath: boolean): Outcome {
  try {
    return {ok: true, value: dump(parseStrictYaml(text, {fastPath}))}
  } catch (e) {
    return {ok: false, error: `${(e as Error).message} @${String((e as {line?: number}).line)}`}
  }
}

function full(text: string): Outcome {
  return outcome(text, false)
}

/** The parser as callers use it (fast path first) decides exactly as the full parser alone. */
function assertSameOutcome(text: string, label: string): void {
  assert.deepEqual(outcome(text, true), full(text), label)
}

function yamlFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) yamlFiles(p, out)
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(p)
  }
  return out
}

test('fast path: every contract the project writes takes it, with the full parser\'s tree', () => {
  const contracts = [...yamlFiles(repoPath('goldens')), repoPath('test', 'vectors', 'replay-corpus', 'contract.yaml')].filter((f) => f.endsWith('contract.yaml'))
  assert.ok(contracts.length >= 5)
  for (const f of contracts) {
    const text = readFileSync(f, 'utf8')
    const fast = parseCanonicalYaml(text)
    assert.notEqual(fast, undefined, `${f} should take the fast path`)
    assert.deepEqual({ok: true, value: dump(fast as JsonValue)}, full(text), f)
  }
})

test('fast path: every YAML file in the repository agrees with the full parser or is left to it', () => {
  const files = [...yamlFiles(repoPath('goldens')), ...yamlFiles(repoPath('test')), ...yamlFiles(repoPath('deploy'))]
  assert.ok(files.length >= 10)
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    assertSameOutcome(text, f)
    const fast = parseCanonicalYaml(text)
    if (fast !== undefined) assert.deepEqual({ok: true, value: dump(fast)}, full(text), f)
  }
  // The refusal vectors (anchors, aliases, tags, merge keys, duplicates, several documents) never take it.
  for (const f of yamlFiles(repoPath('test', 'vectors', 'contract', 'invalid'))) assert.equal(parseCanonicalYaml(readFileSync(f, 'utf8')), undefined, f)
})

test('fast path: hand-picked edge cases agree with the full parser or are left to it', () => {
  const cases: [string, boolean][] = [
    ['a: 1\nb: "x\\ty\\u00e9\\x41"\nc: \'it\'\'s\'\nd: {}\ne: []\nf:\ng: null\n', true],
    ['a:\n    - x\n    - y: 1\n      z: 2\n    - {}\n', true],
    ['- a\n- b: c\n', true],
    ['a: -x\nb: ?y\nc: :z\nd: 0x1F\ne: 1_000\nf: True\ng: ~\nh: 2026-05-01T10:00:00Z\ni: .5\n', true],
    ['a: b # comment\n', false],
    ['# comment\na: b\n', false],
    ['a: &x b\n', false],
    ['a: !!str b\n', false],
    ['a: [1, 2]\n', false],
    ['a: |\n    text\n', false],
    ['a: b\n  c\n', false],
    ['a: b\na: c\n', false],
    ['a:\n- x\n', false],
    ['a: b\r\n', false],
    ['a:\tb\n', false],
    ['a:  b\n', false],
    ['a: b \n', false],
    ['"a": 1\n', true],
    ['? a\n: b\n', false],
    ['a: "unterminated\n', false],
    ['a: .inf\n', false],
    ['1: a\n', false],
    ['a: b\n---\nc: d\n', false],
    ['a: b', false],
  ]
  for (const [text, takes] of cases) {
    const fast = parseCanonicalYaml(text)
    assert.equal(fast !== undefined, takes, JSON.stringify(text))
    assertSameOutcome(text, JSON.stringify(text))
    if (fast !== undefined) assert.deepEqual({ok: true, value: dump(fast)}, full(text), JSON.stringify(text))
  }
})

test('fast path: emitter round trips of random trees read back through it, equal to the full parser', () => {
  const rand = rng(0x5eed)
  const alphabet = ['a', 'Z', '0', '9', '-', '_', '.', '/', ':', ' ', '#', "'", '"', '\\', '{', '}', '[', ']', ',', '&', '*', '!', '|', '>', '%', '@', '`', '?', 'é', '€', '\t', '\u00a0', '\u2028', '\u0001', '😀']
  const words = ['', 'true', 'null', '~', '0x1F', '1_000', '-1', '.5', '1e3', '2026-05-01', '2026-05-01T10:00:00Z', '<<', '---', '...', '- x', 'a: b', 'a #b', 'ok']
  const str = (): string => {
    if (rand() < 0.3) return words[Math.floor(rand() * words.length)] as string
    let s = ''
    const n = Math.floor(rand() * 8)
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rand() * alphabet.length)]
    return s
  }
  // Signed documents never nest a sequence directly in a sequence (the emitter's `- - x`, which
  // the fast path leaves to the full parser), so the trees do not either.
  const tree = (depth: number, inSeq = false): JsonValue => {
    const r = rand()
    if (depth > 3 || r < 0.35 || (inSeq && r >= 0.7)) {
      const k = rand()
      if (k < 0.6) return str()
      if (k < 0.75) return new JsonNumber(String(Math.floor(rand() * 1e6) - 5e5))
      if (k < 0.85) return rand() < 0.5
      return null
    }
    if (r < 0.7) {
      const m = new Map<string, JsonValue>()
      const n = Math.floor(rand() * 5)
      for (let i = 0; i < n; i++) m.set(str(), tree(depth + 1))
      return m
    }
    const n = Math.floor(rand() * 4)
    const a: JsonValue[] = []
    for (let i = 0; i < n; i++) a.push(tree(depth + 1, true))
    return a
  }
  let taken = 0
  for (let i = 0; i < 3000; i++) {
    const t = tree(0)
    let text: string
    try {
      text = emitSignedYaml(t)
    } catch {
      continue // strings with line breaks are refused by the emitter
    }
    const fast = parseCanonicalYaml(text)
    if (fast === undefined) continue
    taken++
    assert.deepEqual({ok: true, value: dump(fast)}, full(text), text)
  }
  assert.ok(taken > 1000, `fast path taken ${taken} times`)
})

test('fast path: seeded mutations of a real contract never make it disagree with the full parser', () => {
  // A real contract cut to three rules (small enough to parse thousands of mutants fully).
  const tree = parseStrictYaml(readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8')) as Map<string, JsonValue>
  const body = tree.get('body') as Map<string, JsonValue>
  body.set('rules', (body.get('rules') as JsonValue[]).slice(0, 3))
  const lines = emitSignedYaml(tree).split('\n')
  lines.pop()
  const rand = rng(Number(process.env.FUZZ_SEED ?? 42))
  const inserts = [' ', '  ', '#', ' #', ':', ': ', '-', '- ', '&a ', '*a', '!', '!!str ', '"', "'", '\\', '{', '}', '[', ']', ',', '|', '>', '\t', '\r', '?', '<<', '---', 'x', '0', '\u00a0', '\ufeff']
  let disagreements = 0
  let accepted = 0
  // FUZZ_ITERATIONS / FUZZ_SEED widen the search locally; the suite runs the seeded 1,500.
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 1500)
  for (let i = 0; i < iterations; i++) {
    const win = [...lines]
    const j = Math.floor(rand() * win.length)
    const line = win[j] as string
    const op = rand()
    if (op < 0.6) {
      const pos = Math.floor(rand() * (line.length + 1))
      win[j] = line.slice(0, pos) + (inserts[Math.floor(rand() * inserts.length)] as string) + line.slice(pos)
    } else if (op < 0.75) win.splice(j, 0, line)
    else if (op < 0.9) win[j] = line.slice(1)
    else win[j] = '  ' + line
    const text = win.join('\n') + '\n'
    if (parseCanonicalYaml(text) !== undefined) accepted++
    const got = outcome(text, true)
    const want = full(text)
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      disagreements++
      const changed = win.find((l, k) => l !== lines[k]) ?? ''
      assert.fail(`mutation ${i} disagrees: ${JSON.stringify(got).slice(0, 200)} vs ${JSON.stringify(want).slice(0, 200)}; first changed line: ${JSON.stringify(changed)}`)
    }
  }
  assert.equal(disagreements, 0)
  // Many mutations stay inside the subset (a changed character in a value, a duplicated line at
  // a different place...): the comparison above must have run on a good share of them.
  assert.ok(accepted > 200, `fast path accepted ${accepted} mutated documents`)
})
