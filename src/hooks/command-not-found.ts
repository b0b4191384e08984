import type {Hook} from '@oclif/core'
import {closest} from 'fastest-levenshtein'
import {emitErrorReport, report} from '../cli/error-output.js'

/**
 * Unknown command: one line with the closest command ("did you mean"), the same on a terminal
 * and in a script (no prompt), exit 127 as a shell does; a JSON object under --json.
 */
const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = [...opts.config.commands.filter((c) => !c.hidden).map((c) => c.id), ...opts.config.topics.filter((t) => !t.hidden).map((t) => t.name)]
  const typed = opts.id.replaceAll(':', ' ')
  const json = (opts.argv ?? []).includes('--json')
  // A command of the reference's CLI that this one does not have: say why, rather than suggest a
  // look-alike (`license keygen` is not `keygen`).
  const absent = ABSENT.find(([prefix]) => typed === prefix || typed.startsWith(`${prefix} `))
  if (absent !== undefined) {
    emitErrorReport(report('COMMAND_NOT_FOUND', `"${typed}" is not a ${opts.config.bin} command: ${absent[1]}`, absent[2]), json)
    process.exit(process.exitCode)
  }
  const suggestion = ids.length === 0 ? undefined : closest(opts.id, ids).replaceAll(':', ' ')
  emitErrorReport(
    report('COMMAND_NOT_FOUND', `"${typed}" is not a ${opts.config.bin} command${suggestion ? `; did you mean "${suggestion}"?` : ''}`, `run ${opts.config.bin} help for the list of commands`),
    json,
  )
  process.exit(process.exitCode)
}

/** Reference commands with no counterpart here: [typed prefix, why, hint] (docs/compatibility.md). */
const ABSENT: ReadonlyArray<readonly [string, string, string]> = [
  ['license', 'no licence is needed; every feature, agent profiles included, is in every build', 'license_key, license_file and PIPELOCK_LICENSE_KEY are accepted and ignored (docs/compatibility.md)'],
]

export default hook
