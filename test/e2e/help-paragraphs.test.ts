import assert from 'node:assert/strict'
import {test} from 'node:test'
import {readFileSync} from 'node:fs'
import {Config} from '@oclif/core'
import PipelockHelp from '../../src/cli/help.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// The DESCRIPTION of these commands reads as paragraphs wrapped once at 80 columns: a line is
// broken only where the next word would not have fit. A description written with its own line
// breaks at ~100 columns came out as a long line, a fragment, a long line, a fragment.

// Every command, from the manifest; these keep line breaks of their own (a list of output
// lines, a table of fields) that read as fragments to the check below.
const KEEPS_ITS_BREAKS = new Set(['mcp:scan', 'policy:note', 'audit:packet:build', 'audit:packet:verify', 'mcp:integrity:manifest:sign', 'mcp:integrity:manifest:verify-signature'])
const COMMANDS = Object.keys((JSON.parse(readFileSync(repoPath('oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}).commands)
  .filter((id) => !KEEPS_ITS_BREAKS.has(id))
  .map((id) => id.split(':'))

// Each command's help is rendered in this process by pipelock's help class at 80 columns (one CLI
// start per command cost more than the rest of the file); the first test holds that rendering to
// what `pipelock COMMAND --help` prints with OCLIF_COLUMNS=80.
const config = await Config.load(repoPath())
/** pipelock's help class, its command section (oclif's formatCommand) made callable. */
class CommandHelp extends PipelockHelp {
  text(id: string): string {
    return this.formatCommand(this.config.findCommand(id, {must: true}))
  }
}
const help = new CommandHelp(config, {maxWidth: 80, stripAnsi: true})
const helpText = (args: string[]): string => help.text(args.join(':'))

test('the help rendered here is what `pipelock COMMAND --help` prints at 80 columns', () => {
  for (const args of [['check'], ['learn', 'compile'], ['mcp', 'proxy']]) {
    const r = runCli([...args, '--help'], {env: {OCLIF_COLUMNS: '80'}})
    assert.equal(r.status, 0, r.stderr)
    const text = helpText(args)
    assert.ok(text.includes('DESCRIPTION\n'), text)
    assert.ok(r.stdout.includes(text), `${args.join(' ')} --help:\n${r.stdout}\n---- rendered here:\n${text}`)
  }
})

/** Lines of the DESCRIPTION that break before a word that would still have fitted. */
function fragments(args: string[]): string[] {
  const text = helpText(args)
  const after = text.slice(text.indexOf('DESCRIPTION\n')).split('\n').slice(1)
  // The section ends at the next heading (ALIASES, EXAMPLES, …).
  const end = after.findIndex((l) => /^[A-Z]+$/.test(l))
  const d = end < 0 ? after : after.slice(0, end)
  const out: string[] = []
  for (let i = 0; i + 1 < d.length; i++) {
    const line = d[i]!
    const next = d[i + 1]!
    if (line.trim() === '' || next.trim() === '' || /^\s{3,}|^\s*- /.test(next)) continue
    const word = next.trim().split(' ')[0]!
    if (line.length + 1 + word.length <= 80) out.push(line)
  }
  return out
}

for (const args of COMMANDS) {
  test(`${args.join(' ')} --help: paragraphs are wrapped once (no fragment lines)`, () => {
    assert.deepEqual(fragments(args), [])
  })
}
