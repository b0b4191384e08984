import {emitErrorReport, isUsageError, report, usageMessage} from './error-output.js'

/** A command class as oclif loads it: what the guard below replaces on it. */
interface CommandClass {
  prototype: {catch(this: {argv: string[]; id?: string; jsonEnabled(): boolean}, err: Error): Promise<unknown>}
}

/** What is read of oclif's loaded config: a command by its id. */
export interface CommandLookup {
  readonly name: string
  findCommand(id: string): {readonly pluginName?: string; readonly flags: Readonly<Record<string, {readonly hidden?: boolean}>>; load(): Promise<CommandClass>} | undefined
}

/**
 * The commands of oclif's own plugins (`help`, `version`, `autocomplete`) do not extend
 * BaseCommand, and oclif reported their flag errors its own way: `› Error: Nonexistent flag:
 * --token=…` with the value and no code, and under `--json` the whole error object, which holds
 * the loaded config (every command's manifest) and the arguments as typed. When `argv` runs such
 * a command, its class's `catch` reports a usage error as every pipelock command reports one
 * (docs/errors.md: one line or one JSON object, exit 2, the value of an unknown flag never
 * shown); any other failure goes to the command's own `catch` as before.
 */
export async function guardPluginCommand(config: CommandLookup, argv: readonly string[]): Promise<void> {
  const id = argv.find((a) => !a.startsWith('-'))
  const cmd = id === undefined ? undefined : config.findCommand(id)
  if (cmd === undefined || cmd.pluginName === undefined || cmd.pluginName === config.name) return
  const flags = Object.entries(cmd.flags).filter(([, f]) => f.hidden !== true).map(([name]) => name)
  const C = await cmd.load()
  const own = C.prototype.catch
  C.prototype.catch = async function (err: Error): Promise<unknown> {
    if (!isUsageError(err)) return await own.call(this, err)
    const end = this.argv.indexOf('--')
    const json = (end === -1 ? this.argv : this.argv.slice(0, end)).includes('--json')
    emitErrorReport(report('USAGE', usageMessage(err, flags), `see pipelock ${id} --help`), json)
    return undefined
  }
}
