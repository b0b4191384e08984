import {ERROR_REGISTRY, type ErrorCode} from './registry.js'

export interface ErrorLocation {
  file?: string
  line?: number
}

export interface PipelockErrorOptions {
  hint?: string
  location?: ErrorLocation
  cause?: unknown
}

/**
 * An expected failure: printed as one line (plus an optional hint), never with a stack trace.
 * `message` is the text without location; `toString()`-style rendering is done by `formatError`.
 */
export class PipelockError extends Error {
  readonly code: ErrorCode
  readonly exitCode: number
  readonly hint?: string
  readonly location?: ErrorLocation

  constructor(code: ErrorCode, message: string, options: PipelockErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'PipelockError'
    this.code = code
    this.exitCode = ERROR_REGISTRY[code].exit
    this.hint = options.hint
    this.location = options.location
  }
}

/** One line: `<file>:<line>: <message>` when a location is known, else the message. */
export function formatError(err: PipelockError): string {
  const loc = err.location
  if (loc?.file !== undefined) {
    const where = loc.line === undefined ? loc.file : `${loc.file}:${loc.line}`
    return `${where}: ${err.message}`
  }
  return err.message
}

/**
 * `err` told again with `prefix` before its message (`learn forget: load roster: …`): a
 * PipelockError keeps its code and its hint; anything else becomes a `fallback` error.
 */
export function prefixedError(err: unknown, prefix: string, fallback: ErrorCode): PipelockError {
  if (err instanceof PipelockError) return new PipelockError(err.code, `${prefix}${err.message}`, err.hint !== undefined ? {hint: err.hint} : {})
  return new PipelockError(fallback, `${prefix}${(err as Error).message}`)
}

export function isPipelockError(err: unknown): err is PipelockError {
  if (err instanceof PipelockError) return true
  // A PipelockError of another copy of this module (a plugin loaded from dist/src beside a
  // bundle holding its own copy) is one all the same: its name and a registered code say so.
  const e = err as {name?: unknown; code?: unknown; exitCode?: unknown} | null
  return err instanceof Error && e!.name === 'PipelockError' && typeof e!.code === 'string' && Object.hasOwn(ERROR_REGISTRY, e!.code) && typeof e!.exitCode === 'number'
}
