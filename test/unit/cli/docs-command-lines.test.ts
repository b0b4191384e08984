import {test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {repoPath} from '../../helpers/vectors.js'

// Issue 34: every `pipelock …` command line in docs/learn-and-lock.md names a real command, only
// flags it has, and every flag it requires (the documented rollback line lacked five). Checked
// against the built CLI's manifest (oclif.manifest.json), in code blocks and inline code alike.

interface ManifestFlag {
  name: string
  char?: string
  aliases?: string[]
  required?: boolean
}

const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, ManifestFlag>; strict?: boolean; aliases?: string[]}>}
const commands = new Map(Object.entries(manifest.commands).flatMap(([id, c]) => [id, ...(c.aliases ?? [])].map((name) => [name.split(':').join(' '), c] as const)))
/** Commands the oclif plugins add (not in this package's manifest). */
const PLUGIN_COMMANDS = new Set(['version', 'autocomplete', 'help'])
/** Topics: a prose mention of `pipelock tls` names the group, not a command. */
const topics = new Set([...commands.keys()].flatMap((id) => id.split(' ').slice(0, -1).map((_, i, a) => a.slice(0, i + 1).join(' '))))

/** Shell-ish words of one command line: quotes kept as part of the word, stops at a pipe, `;`, `&&`, a redirection or a comment. */
function words(line: string): string[] {
  const out: string[] = []
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+/g
  let cur = ''
  let last = 0
  for (let m = re.exec(line); m !== null; m = re.exec(line)) {
    const gap = line.slice(last, m.index)
    if (/\s/.test(gap) && cur !== '') {
      out.push(cur)
      cur = ''
    }
    cur += m[0]
    last = m.index + m[0].length
  }
  if (cur !== '') out.push(cur)
  const end = out.findIndex((w) => /^(\||;|&&|&|#|\)|[0-9]?>{1,2}|<)/.test(w))
  return end < 0 ? out : out.slice(0, end)
}

/** Every `pipelock …` invocation of the doc: [where, words after `pipelock`]. */
function invocations(doc: string): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = []
  const arrays = new Map<string, string[]>()
  const fenced = [...doc.matchAll(/```[a-z]*\n([\s\S]*?)```/g)]
  for (const m of fenced) {
    const block = (m[1] as string).replace(/\\\n\s*/g, ' ')
    for (const a of block.matchAll(/^(\w+)=\((.*)\)$/gm)) arrays.set(a[1] as string, words(a[2] as string))
    block.split('\n').forEach((line, i) => {
      // A comment, a line of JSON output or a log line (`pipelock: …`) that mentions pipelock is not a command line.
      if (/^\s*(#|"|pipelock:)/.test(line)) return
      for (const p of line.matchAll(/(?:^|[\s(&|;]|\$\()pipelock\s+([^`]*)/g)) {
        const w = words(p[1] as string).flatMap((x) => {
          const arr = /^"\$\{(\w+)\[@\]\}"$/.exec(x)
          return arr === null ? [x] : (arrays.get(arr[1] as string) ?? [x])
        })
        out.push([`block line "${line.trim().slice(0, 60)}" (#${i})`, w])
      }
    })
  }
  const prose = doc.replace(/```[a-z]*\n[\s\S]*?```/g, '')
  for (const m of prose.matchAll(/`pipelock ([^`]+)`/g)) out.push([`inline \`pipelock ${(m[1] as string).replace(/\s+/g, ' ')}\``, words(m[1] as string)])
  return out
}

function problems(where: string, w: string[], o: {nameOnly?: boolean} = {}): string[] {
  // `pipelock generate …` in prose names the group's commands.
  if (o.nameOnly === true && w.at(-1) === '…') w = w.slice(0, -1)
  if (w.length === 0 || PLUGIN_COMMANDS.has(w[0] as string)) return []
  let id = ''
  let n = 0
  for (let k = 1; k <= Math.min(4, w.length); k++) {
    const cand = w.slice(0, k).join(' ')
    if (commands.has(cand)) {
      id = cand
      n = k
    }
  }
  if (id === '') {
    if (o.nameOnly === true && topics.has(w.join(' '))) return []
    return [`${where}: no such command: pipelock ${w.slice(0, 3).join(' ')}`]
  }
  const c = commands.get(id)!
  const byName = new Map<string, ManifestFlag>()
  for (const f of Object.values(c.flags)) {
    byName.set(`--${f.name}`, f)
    for (const a of f.aliases ?? []) byName.set(`--${a}`, f)
    if (f.char !== undefined) byName.set(`-${f.char}`, f)
  }
  const seen = new Set<string>()
  const out: string[] = []
  for (const word of w.slice(n)) {
    if (word === '--') break
    if (!word.startsWith('-')) continue
    const name = word.split('=')[0] as string
    const f = byName.get(name)
    if (f === undefined) out.push(`${where}: pipelock ${id} has no flag ${name}`)
    else seen.add(f.name)
  }
  // A prose mention of a bare command (`pipelock audit packet build`) names it; it is not a command line to run.
  if (seen.has('help') || (o.nameOnly === true && where.startsWith('inline') && w.length === n)) return out
  for (const f of Object.values(c.flags)) if (f.required === true && !seen.has(f.name)) out.push(`${where}: pipelock ${id} lacks required --${f.name}`)
  return out
}

test('docs/learn-and-lock.md: every pipelock command line is a real command with its flags and every required flag', () => {
  const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
  const all = invocations(doc)
  assert.ok(all.length > 30, `found ${all.length} command lines`)
  assert.ok(all.some(([, w]) => w[0] === 'learn' && w[1] === 'rollback'), 'the rollback line is checked')
  assert.deepEqual(all.flatMap(([where, w]) => problems(where, w)), [])
})

test('the checker finds what it should: the old rollback line, an unknown flag, an unknown command', () => {
  assert.deepEqual(problems('x', words('learn rollback --to <manifest hash>')), [
    'x: pipelock learn rollback lacks required --contract-store',
    'x: pipelock learn rollback lacks required --roster',
    'x: pipelock learn rollback lacks required --roster-root-fingerprint',
    'x: pipelock learn rollback lacks required --activation-key',
  ])
  assert.deepEqual(problems('x', words('learn store history --store "$W/store" --nope | head')), ['x: pipelock learn store history has no flag --nope'])
  assert.deepEqual(problems('x', words('learn frobnicate --x')), ['x: no such command: pipelock learn frobnicate --x'])
})

// The user docs an operator runs commands from: every `pipelock …` line names a real command, only
// its flags and every flag it requires.
for (const name of ['run', 'config', 'operations', 'agents', 'airlock', 'ask', 'cross-request', 'taint', 'dns-overrides', 'mcp', 'sandbox', 'file-sentry', 'git-protection', 'scan-api', 'envelope', 'redaction', 'rules', 'a2a', 'browser-shield', 'address-protection', 'tls', 'security', 'install', 'signing', 'receipts']) {
  test(`docs/${name}.md: every pipelock command line is a real command with its flags and every required flag`, () => {
    const doc = readFileSync(repoPath('docs', `${name}.md`), 'utf8')
    assert.deepEqual(invocations(doc).flatMap(([where, w]) => problems(where, w, {nameOnly: true})), [])
  })
}
