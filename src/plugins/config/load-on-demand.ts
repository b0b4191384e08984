import {configHash} from './hash.js'
import type {ConfigWarning} from './problems.js'
import {resolveDefaults} from './resolve-defaults.js'
import type {PipelockConfig} from './schema.js'

// What `loadConfig` (load.ts) returns, and the no-file case, here rather than in load.ts: the
// MCP wrap imports this module without the YAML reader (bench: mcp), and load.ts imports it back.

export interface LoadedConfig {
  readonly config: PipelockConfig
  readonly warnings: readonly ConfigWarning[]
  /** The file it came from; undefined for the built-in defaults. */
  readonly path?: string
  /** `sha256:<hex>` policy hash (see `configHash`). */
  readonly hash: string
}

export interface LoadOptions {
  readonly env?: Readonly<Record<string, string | undefined>>
}

/** A resolved config as loaded from `file` (undefined: the built-in defaults), with its policy hash. */
export function loadedConfig(r: {config: PipelockConfig; warnings: readonly ConfigWarning[]}, file: string | undefined): LoadedConfig {
  return {config: r.config, warnings: r.warnings, path: file, hash: configHash(r.config)}
}

/**
 * `loadConfig` for callers that can wait (the MCP wrap, bench: mcp): the YAML reader (load.ts,
 * yaml-source.ts and the `yaml` package, ≈ 170 KB of a bundle's start-up) is imported only when
 * there is a file to read. Without one, the built-in defaults exactly as `loadConfig()` gives them.
 */
export async function loadConfigOnDemand(file: string | undefined, options: LoadOptions = {}): Promise<LoadedConfig> {
  if (file !== undefined) return (await import('./load.js')).loadConfig(file, options)
  return loadDefaults(options)
}

/**
 * The built-in defaults as a loaded config (no file): what `loadConfig()` without a path gives,
 * `resolveConfig({})` without loading zod (`resolveDefaults`).
 */
export function loadDefaults(options: LoadOptions = {}): LoadedConfig {
  return loadedConfig(resolveDefaults({env: options.env ?? process.env}), undefined)
}
