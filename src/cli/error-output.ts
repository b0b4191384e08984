import {ERROR_REGISTRY, formatError, isPipelockError, nearestSpelling, PipelockError, printable, type ErrorCode} from '../plugins/errors/index.js'

/**
 * How every expected failure reaches the user: one line on stderr — the message (with file and
 * line when known), the stable code in brackets, and the hint — or, under --json, one JSON object
 * on stdout with the same fields. The exit status is the same either way (docs/errors.md).
 */
export interface ErrorReport {
  code: ErrorCode
  message: string
  exit: number
  hint?: string
  file?: string
  line?: number
}

export function reportFromPipelockError(err: PipelockError): ErrorReport {
  const r: ErrorReport = {code: err.code, message: formatError(err), exit: err.exitCode}
  if (err.hint) r.hint = err.hint
  if (err.location?.file !== undefined) r.file = err.location.file
  if (err.location?.line !== undefined) r.line = err.location.line
  return r
}

export function report(code: ErrorCode, message: string, hint?: string, exit: number = ERROR_REGISTRY[code].exit): ErrorReport {
  return hint === undefined ? {code, message, exit} : {code, message, exit, hint}
}

/**
 * `<message> [CODE]; hint: <hint>` — one line, never a stack. Control characters (a value the
 * user passed may hold an escape sequence or a line break) are shown as `?`, so the line cannot
 * rewrite the terminal or forge a second line. The --json form escapes them as JSON does.
 */
export function errorLine(r: ErrorReport): string {
  return printable(`${r.message} [${r.code}]${r.hint ? `; hint: ${r.hint}` : ''}`)
}

/**
 * `err` as one error line that starts with `prefix` (`verify failed: <err>`): the file and line
 * of a bad input move into the text after the prefix; code and hint stay. Anything that is not
 * an expected failure is returned as it is (a bug keeps its stack).
 */
export function prefixedFailure(prefix: string, err: unknown): unknown {
  if (!isPipelockError(err)) return err
  return new PipelockError(err.code, `${prefix}${formatError(err)}`, err.hint === undefined ? {} : {hint: err.hint})
}

/** The --json form: `{"error": {...}}`, one line. */
export function errorJson(r: ErrorReport): string {
  return JSON.stringify({error: r})
}

/** Prints the report in the form the invocation asked for and sets the exit status. */
export function emitErrorReport(r: ErrorReport, json: boolean): void {
  if (json) process.stdout.write(errorJson(r) + '\n')
  else process.stderr.write(errorLine(r) + '\n')
  process.exitCode = r.exit
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

const FLAG_VALUE = /^Parsing --([\w-]+) \n\t([\s\S]*)\nSee more help with --help$/

/**
 * oclif's refusal of two exclusive flags writes the first one's value (`--key=… cannot also be
 * provided when using --other`): a key or a token given on the command line would be echoed to
 * the terminal and to logs. The flag's name is enough.
 */
const EXCLUSIVE_VALUE = /--([\w-]+)=[\s\S]*? cannot also be provided when using --([\w-]+)/g

/** An oclif parse error: a flag or argument the command does not take, lacks or cannot read (exit 2, `USAGE`). */
export function isUsageError(err: Error): boolean {
  const name = err.constructor?.name ?? ''
  // a flag value its parser refused (`--uses abc` on an integer flag): oclif rethrows the
  // parser's plain CLIError with this prefix and no class of its own
  if (isFlagValueError(err)) return true
  // a single-value flag given twice: oclif throws a plain CLIError with this text
  if (/^Flag --[\w-]+ can only be specified once$/.test(err.message)) return true
  // a flag given last with no value (`--addr` at the end of the line): the same plain CLIError
  if (/^Flag --[\w-]+ expects a value$/.test(err.message)) return true
  return (
    name.endsWith('FlagError') ||
    name.endsWith('ArgError') ||
    name === 'UnexpectedArgsError' ||
    name === 'NonExistentFlagsError' ||
    name === 'FailedFlagValidationError' ||
    name === 'RequiredArgsError' ||
    name === 'CLIParseError' ||
    name === 'ArgInvalidOptionError' ||
    name === 'FlagInvalidOptionError' ||
    name === 'ViolatedFlagConstraintError'
  )
}

/** `--json` among the command's own arguments (not after `--`, where the wrapped command's are). */
export function jsonBeforeTerminator(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

/** oclif's wrapping of an error thrown by a flag's value parser (integer, custom). */
export function isFlagValueError(err: Error): boolean {
  return FLAG_VALUE.test(err.message)
}

/**
 * One line out of an oclif parse error, whose message spans several lines ("The following error
 * occurred:\n  Missing required flag contract\nSee more help with --help").
 */
export function usageMessage(err: Error & {args?: {name?: string}[]; flags?: unknown}, ownFlags: readonly string[] = []): string {
  if (err.constructor?.name === 'NonExistentFlagsError' && Array.isArray(err.flags) && err.flags.length > 0) return unknownFlags(err.flags, ownFlags)
  const flagValue = FLAG_VALUE.exec(err.message)
  if (flagValue !== null) return `--${flagValue[1]}: ${flagValue[2]}`
  const lines = err.message.replace(ANSI, '').replace(EXCLUSIVE_VALUE, '--$1 cannot also be provided when using --$2').split('\n').map((l) => l.trim()).filter((l) => l !== '' && l !== 'See more help with --help')
  if (err.constructor?.name === 'RequiredArgsError' && Array.isArray(err.args)) {
    const names = err.args.map((a) => (a.name ?? '').toUpperCase()).filter((n) => n !== '')
    return `missing required argument${names.length === 1 ? '' : 's'} ${names.join(', ')}`
  }
  // oclif names the extra words (`Unexpected argument: sk-…`): a flag name left out puts its
  // value there, and the line goes to terminals and CI logs; the hint names the command instead.
  if (/^Unexpected arguments?: /.test(lines[0] ?? '')) return 'Unexpected argument: more arguments than the command takes (their values are not shown)'
  const missingFlag = (l: string): string => l.replace(/^Missing required flag ([\w-]+)$/, 'missing required flag --$1')
  if (/^The following errors? occurred:$/.test(lines[0] ?? '')) return lines.slice(1).map(missingFlag).join('; ')
  return missingFlag(lines[0] ?? err.message)
}

/**
 * oclif's `Nonexistent flag(s): …` with each flag's name only — a value given with `=` (or joined
 * to a short flag) is not echoed: it may be a token, and the line goes to terminals and CI logs —
 * and, after a long flag that misspells one of `ownFlags` (the command's), `(did you mean --config?)`.
 */
function unknownFlags(typed: readonly unknown[], ownFlags: readonly string[]): string {
  const named = typed.map((t) => {
    const text = String(t)
    const long = /^--([^=]*)/.exec(text)
    if (long === null) return text.slice(0, 2)
    const meant = nearestSpelling(long[1]!, ownFlags)
    return `--${long[1]}${meant === undefined ? '' : ` (did you mean --${meant}?)`}`
  })
  return `Nonexistent flag${named.length === 1 ? '' : 's'}: ${named.join(', ')}`
}

/**
 * A command's failure when it ran without oclif (the `run` and `mcp proxy` fast paths): an
 * expected failure as the one line BaseCommand.catch writes; anything else is a bug, reported
 * as `INTERNAL` (exit 70) with its stack. Nothing is loaded here: the fast paths run from a
 * bundle compiled without a dynamic-import hook, where loading oclif's handler threw its own
 * error and hid the real one.
 */
export async function reportFailureOutsideOclif(err: unknown): Promise<void> {
  if (isPipelockError(err)) return emitErrorReport(reportFromPipelockError(err), false)
  const e = err instanceof Error ? err : new Error(String(err))
  emitErrorReport(report('INTERNAL', e.message), false)
  process.stderr.write(`${e.stack ?? e.message}\n`)
}
