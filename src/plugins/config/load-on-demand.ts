import {loadDefaults, type LoadedConfig, type LoadOptions} from './loaded.js'

export {loadDefaults, loadedConfig, type LoadedConfig, type LoadOptions} from './loaded.js'

/**
 * `loadConfig` for callers that can wait (the MCP wrap, bench: mcp): the YAML reader (load.ts,
 * yaml-source.ts and the `yaml` package, ≈ 170 KB of a bundle's start-up) is imported only when
 * there is a file to read. Without one, the built-in defaults exactly as `loadConfig()` gives them.
 */
export async function loadConfigOnDemand(file: string | undefined, options: LoadOptions = {}): Promise<LoadedConfig> {
  if (file !== undefined) return (await import('./load.js')).loadConfig(file, options)
  return loadDefaults(options)
}
