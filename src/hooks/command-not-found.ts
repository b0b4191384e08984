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
  const suggestion = ids.length === 0 ? undefined : closest(opts.id, ids).replaceAll(':', ' ')
  const json = (opts.argv ?? []).includes('--json')
  emitErrorReport(
    report('COMMAND_NOT_FOUND', `"${typed}" is not a ${opts.config.bin} command${suggestion ? `; did you mean "${suggestion}"?` : ''}`, `run ${opts.config.bin} help for the list of commands`),
    json,
  )
  process.exit(process.exitCode)
}

export default hook
