import type {Hook} from '@oclif/core'
import {closest} from 'fastest-levenshtein'
import {emitErrorReport, report} from '../cli/error-output.js'
import {commandWithStrayArguments} from '../cli/stray-argument.js'

/**
 * Unknown command: one line with the closest command ("did you mean"), the same on a terminal
 * and in a script (no prompt), exit 127 as a shell does; a JSON object under --json.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  // oclif drops as many words from argv as the id has parts, and an argument holding a colon
  // (`127.0.0.1:8888`) adds parts: the process's own arguments still hold a --json given after it.
  const json = (opts.argv ?? []).includes('--json') || beforeDoubleDash(process.argv.slice(2)).includes('--json')
  // `check pipelock.yaml`: a command that takes no arguments, given one. Answered as the parser
  // answers an unexpected argument (USAGE, exit 2), without the value: a flag name left out puts
  // the flag's value there, and that may be a key or a token.
  const stray = commandWithStrayArguments(opts.id, opts.config)
  if (stray !== undefined) {
    const name = stray.id.replaceAll(':', ' ')
    emitErrorReport(report('USAGE', `Unexpected argument: ${name} takes no arguments`, `see ${opts.config.bin} ${name} --help`), json)
    process.exit(process.exitCode)
  }
  const ids = [...opts.config.commands.filter((c) => !c.hidden).map((c) => c.id), ...opts.config.topics.filter((t) => !t.hidden).map((t) => t.name)]
  const words = opts.id.split(':')
  // A command of the reference's CLI that this one does not have: say why, rather than suggest a
  // look-alike (`license keygen` is not `keygen`).
  const absent = ABSENT.find(([spellings]) => spellings.includes(words[0] as string))
  if (absent !== undefined) {
    // Shown: the command word and the subcommand word after it, if one was typed.
    const sub = words[1] !== undefined && COMMAND_WORD.test(words[1]) ? 1 : 0
    emitErrorReport(report('COMMAND_NOT_FOUND', `"${shown(words, 1 + sub)}" is not a ${opts.config.bin} command: ${absent[1]}`, absent[2]), json)
    process.exit(process.exitCode)
  }
  // The command words: the topics typed, then the word that names no topic (the mistyped one).
  const topics = new Set(opts.config.topics.map((t) => t.name))
  let n = 0
  while (n < words.length - 1 && topics.has(words.slice(0, n + 1).join(':'))) n++
  n++
  const suggestion = ids.length === 0 ? undefined : closest(words.slice(0, n).join(':'), ids).replaceAll(':', ' ')
  emitErrorReport(
    report('COMMAND_NOT_FOUND', `"${shown(words, n)}" is not a ${opts.config.bin} command${suggestion ? `; did you mean "${suggestion}"?` : ''}`, `run ${opts.config.bin} help for the list of commands`),
    json,
  )
  process.exit(process.exitCode)
}

/** The arguments before `--` (after it they belong to a wrapped command). */
function beforeDoubleDash(argv: readonly string[]): readonly string[] {
  const end = argv.indexOf('--')
  return end === -1 ? argv : argv.slice(0, end)
}

/** A word that can name a command or a topic. */
const COMMAND_WORD = /^[a-z][a-z0-9-]*$/

/**
 * The first `n` words typed, `…` for the rest: the arguments after the command words are not
 * echoed (`license install <TOKEN>` carries a licence token, a mistyped command may carry a key
 * or a URL with credentials).
 */
function shown(words: readonly string[], n: number): string {
  const head = words.slice(0, Math.max(1, n)).join(' ')
  return n < words.length ? `${head} …` : head
}

/** Reference commands with no counterpart here, by their first word and its spellings: [spellings, why, hint] (docs/compatibility.md). */
const ABSENT: ReadonlyArray<readonly [readonly string[], string, string]> = [
  [['license', 'licence'], 'no licence is needed; every feature, agent profiles included, is in every build', 'license_key, license_file and PIPELOCK_LICENSE_KEY are accepted and ignored (docs/compatibility.md)'],
]

export default hook
