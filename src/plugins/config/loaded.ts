import {configHash} from './hash.js'
import type {ConfigWarning} from './problems.js'
import {resolveDefaults} from './resolve-defaults.js'
import type {PipelockConfig} from './schema.js'

// What `loadConfig` (load.ts) returns, and the no-file case, here rather than in load.ts: the
// MCP wrap reaches them without the YAML reader (load-on-demand.ts), and load.ts uses them too.

export interface LoadedConfig {
  readonly config: PipelockConfig
  readonly warnings: readonly ConfigWarning[]
  /** The file it came from; undefined for the built-in defaults. */
  readonly path?: string
  /** `sha256:<hex>` policy hash (see `configHash`). */
  readonly hash: string
  /** The file's own document, before defaults (what the user wrote); undefined without a file. */
  readonly document?: unknown
  /** The file's text as it was read (a UTF-16 file decoded); undefined without a file. */
  readonly text?: string
}

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** A resolved config as loaded from `file` (undefined: the built-in defaults), with its policy hash. */
export function loadedConfig(r: {config: PipelockConfig; warnings: readonly ConfigWarning[]; document?: unknown}, file: string | undefined): LoadedConfig {
  return {config: r.config, warnings: r.warnings, path: file, hash: configHash(r.config), ...(r.document !== undefined ? {document: r.document} : {})}
}

/**
 * A file document that sets nothing: zero bytes, comments only, `null`, `~` or `{}` (the YAML
 * reader gives `{}` for all of them). Most often a truncated or half-done write.
 */
export function documentSetsNothing(document: unknown): boolean {
  return document === null || document === undefined || (typeof document === 'object' && !Array.isArray(document) && Object.keys(document).length === 0)
}

/**
 * Whether the file's document sets the dotted key path (`request_body_scanning.scan_headers`).
 * A path that goes on below a value (`logging.format.text`: `format` is the string `text`) is set
 * as far as the document goes.
 */
export function documentSets(document: unknown, dotted: string): boolean {
  let at: unknown = document
  for (const key of dotted.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return at !== document
    if (!Object.hasOwn(at, key)) return false
    at = (at as Record<string, unknown>)[key]
  }
  return true
}

/**
 * The built-in defaults as a loaded config (no file): what `loadConfig()` without a path gives,
 * `resolveConfig({})` without loading zod (`resolveDefaults`).
 */
export function loadDefaults(options: LoadOptions = {}): LoadedConfig {
  return loadedConfig(resolveDefaults({env: options.env ?? process.env}), undefined)
}
