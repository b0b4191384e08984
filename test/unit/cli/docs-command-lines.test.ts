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

const manifest = JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, ManifestFlag>; strict?: boolean}>}
const commands = new Map(Object.entries(manifest.commands).map(([id, c]) => [id.split(':').join(' '), c]))

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

function problems(where: string, w: string[]): string[] {
  let id = ''
  let n = 0
  for (let k = 1; k <= Math.min(3, w.length); k++) {
    const cand = w.slice(0, k).join(' ')
    if (commands.has(cand)) {
      id = cand
      n = k
    }
  }
  if (id === '') return [`${where}: no such command: pipelock ${w.slice(0, 3).join(' ')}`]
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
  if (seen.has('help')) return out
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

// The operator docs: every command line an operator copies from them runs as written (flags the
// command has, the flags it requires). An inline mention without flags (`pipelock session …`,
// `pipelock signing rotation endorse`) only has to name a command or a topic; a fenced block
// without a language, and a `#` comment line (the answers a block shows), are output, not command lines.
const OPERATOR_DOCS = ['run.md', 'config.md', 'operations.md', 'agents.md', 'airlock.md', 'ask.md', 'cross-request.md', 'taint.md', 'dns-overrides.md']

function operatorProblems(where: string, w: string[]): string[] {
  if (!where.startsWith('inline') || w.some((x) => x.startsWith('-'))) return problems(where, w)
  const named = w.filter((x) => /^[a-z][a-z0-9-]*$/.test(x))
  for (let k = named.length; k >= 1; k--) {
    const cand = named.slice(0, k).join(' ')
    if ([...commands.keys()].some((id) => id === cand || id.startsWith(`${cand} `))) return []
  }
  return [`${where}: no such command or topic: pipelock ${w.join(' ')}`]
}

test('the operator docs: every pipelock command line is a real command with its flags and every required flag', () => {
  let total = 0
  for (const name of OPERATOR_DOCS) {
    const doc = readFileSync(repoPath('docs', name), 'utf8').replace(/^```([a-z]*)\n[\s\S]*?^```$/gm, (block, lang: string) => (lang === '' ? '' : block)).replace(/^\s*#.*$/gm, '')
    const all = invocations(doc)
    total += all.length
    assert.deepEqual(all.flatMap(([where, w]) => operatorProblems(where, w).map((p) => `${name}: ${p}`)), [])
  }
  assert.ok(total > 100, `found ${total} command lines`)
})

test('the operator-doc checker: a mention names a command or topic; a command line still needs its flags', () => {
  assert.deepEqual(operatorProblems('inline x', ['session', '…']), [])
  assert.deepEqual(operatorProblems('inline x', ['signing', 'rotation', 'endorse']), [])
  assert.deepEqual(operatorProblems('inline x', ['sessions', 'list']), ['inline x: no such command or topic: pipelock sessions list'])
  assert.deepEqual(operatorProblems('inline x', ['session', 'release', 'k', '--nope']), ['inline x: pipelock session release has no flag --nope'])
})
