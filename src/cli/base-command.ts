import {Command, Errors, type Interfaces} from '@oclif/core'
import {isPipelockError} from '../plugins/errors/index.js'
import {resolvePathInputs} from './path-inputs.js'
import {emitErrorReport, isUsageError, jsonBeforeTerminator, report, reportFromPipelockError, usageMessage} from './error-output.js'

/**
 * Every pipelock command extends this. Expected failures (PipelockError) and flag/argument
 * errors print one line — message, [CODE], hint — on stderr, or one JSON object on stdout under
 * --json, and exit with the registry's status either way (src/cli/error-output.ts). Anything
 * else is a bug and keeps its stack (under --json it is also reported as INTERNAL).
 */
export abstract class BaseCommand extends Command {
  /**
   * The command declares its own boolean --json flag (instead of oclif's enableJsonFlag, which
   * `strict = false` commands taking `-- COMMAND` cannot use); failures then honour it too.
   */
  static ownJsonFlag = false

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    const json = this.jsonEnabled() || ((this.constructor as typeof BaseCommand).ownJsonFlag && jsonBeforeTerminator(this.argv))
    if (isPipelockError(err)) {
      emitErrorReport(reportFromPipelockError(err), json)
      return undefined
    }
    if (err instanceof Errors.ExitError) throw err
    if (isUsageError(err)) {
      // one exit status for usage errors in every command: the registry's (2)
      emitErrorReport(report('USAGE', usageMessage(err, this.ownFlagNames()), `see pipelock ${this.id?.replaceAll(':', ' ') ?? ''} --help`), json)
      return undefined
    }
    if (json) {
      emitErrorReport(report('INTERNAL', err.message), true)
      process.stderr.write(`${err.stack ?? err.message}\n`)
      return undefined
    }
    return super.catch(err)
  }

  /** The names of the command's flags a user may type (what an unknown flag is compared with). */
  private ownFlagNames(): string[] {
    const ctor = this.constructor as typeof Command
    const own = Object.entries({...ctor.baseFlags, ...ctor.flags}).filter(([, f]) => f.hidden !== true).map(([name]) => name)
    if (ctor.enableJsonFlag) own.push('json') // oclif adds it while it parses
    return own
  }

  /** Parses as oclif does, then resolves path-valued flags and args against the working directory. */
  protected override async parse<F extends FlagOutput, B extends FlagOutput, A extends ArgOutput>(
    options?: Interfaces.Input<F, B, A>,
    argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const r = await super.parse(options, argv)
    resolvePathInputs(this.id, r.flags as Record<string, unknown>, r.args as Record<string, unknown>)
    return r
  }

  /** Writes a line to stdout unless --json was given (oclif then prints the returned result). */
  protected out(line = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(line + '\n')
  }

  /** Writes a line to stderr (also under --json: diagnostics are never part of the JSON). */
  protected err(line: string): void {
    process.stderr.write(line + '\n')
  }
}

// oclif's parser output constraints (not exported by @oclif/core)
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type FlagOutput = {[name: string]: any}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ArgOutput = {[name: string]: any}

