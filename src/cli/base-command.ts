import {Command, Errors} from '@oclif/core'
import {formatError, isPipelockError} from '../plugins/errors/index.js'

/**
 * Every pipelock command extends this. Expected failures (PipelockError) print one line on
 * stderr — what and where — plus an optional hint, and set the registry's exit code; flag and
 * argument errors print one line and exit 1; anything else is a bug and keeps its stack.
 */
export abstract class BaseCommand extends Command {
  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    if (isPipelockError(err)) {
      process.stderr.write(formatError(err) + '\n')
      if (err.hint) process.stderr.write(`hint: ${err.hint}\n`)
      process.exitCode = err.exitCode
      return undefined
    }
    if (err instanceof Errors.ExitError) throw err
    if (isUsageError(err)) {
      process.stderr.write(firstLine(err.message) + `\nSee: pipelock ${this.id?.replaceAll(':', ' ') ?? ''} --help\n`)
      process.exitCode = 1
      return undefined
    }
    return super.catch(err)
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

function isUsageError(err: Error): boolean {
  const name = err.constructor?.name ?? ''
  return (
    name.endsWith('FlagError') ||
    name.endsWith('ArgError') ||
    name === 'UnexpectedArgsError' ||
    name === 'NonExistentFlagsError' ||
    name === 'FailedFlagValidationError' ||
    name === 'RequiredArgsError' ||
    name === 'CLIParseError' ||
    name === 'ArgInvalidOptionError' ||
    name === 'FlagInvalidOptionError'
  )
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? s
  return line.trim()
}
