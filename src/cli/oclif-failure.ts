import {emitErrorReport, isUsageError, jsonBeforeTerminator, report, usageMessage} from './error-output.js'

/** A command class as oclif loads it: what the guard below replaces on it. */
interface CommandClass {
  prototype: {catch(this: {argv: string[]; id?: string; jsonEnabled(): boolean}, err: Error): Promise<unknown>}
}

/** A command as oclif's config finds it: its flags and its class. */
export interface FoundCommand {
  readonly flags: Readonly<Record<string, {readonly hidden?: boolean}>>
  load(): Promise<CommandClass>
}

/**
 * The commands of oclif's own plugins (`help`, `version`, `autocomplete`) do not extend
 * BaseCommand, and oclif reported their flag errors its own way: `› Error: Nonexistent flag:
 * --token=…` with the value and no code, and under `--json` the whole error object, which holds
 * the loaded config (every command's manifest) and the arguments as typed. bin/run.js hands such
 * a command (`id`) here before oclif runs it: its class's `catch` reports a usage error as every
 * pipelock command reports one (docs/errors.md: one line or one JSON object, exit 2, the value of
 * an unknown flag never shown); any other failure goes to the command's own `catch` as before.
 */
export async function guardPluginCommand(id: string, cmd: FoundCommand): Promise<void> {
  const flags = Object.entries(cmd.flags).filter(([, f]) => f.hidden !== true).map(([name]) => name)
  const C = await cmd.load()
  const own = C.prototype.catch
  C.prototype.catch = async function (err: Error): Promise<unknown> {
    if (!isUsageError(err)) return await own.call(this, err)
    emitErrorReport(report('USAGE', usageMessage(err, flags), `see pipelock ${id} --help`), jsonBeforeTerminator(this.argv))
    return undefined
  }
}
