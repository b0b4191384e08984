import {configHash} from './hash.js'
import type {LoadedConfig, LoadOptions} from './load.js'
import {resolveConfig} from './resolve.js'

/**
 * `loadConfig` for callers that can wait (the MCP wrap, issue 12): the YAML reader (load.ts,
 * yaml-source.ts and the `yaml` package, ≈ 170 KB of a bundle's start-up) is imported only when
 * there is a file to read. Without one, the built-in defaults exactly as `loadConfig()` gives them.
 */
export async function loadConfigOnDemand(file: string | undefined, options: LoadOptions = {}): Promise<LoadedConfig> {
  if (file !== undefined) return (await import('./load.js')).loadConfig(file, options)
  return loadDefaults(options)
}

/** The built-in defaults as a loaded config (no file): what `loadConfig()` without a path gives. */
export function loadDefaults(options: LoadOptions = {}): LoadedConfig {
  const r = resolveConfig({}, {env: options.env ?? process.env})
  return {config: r.config, warnings: r.warnings, path: undefined, hash: configHash(r.config)}
}
