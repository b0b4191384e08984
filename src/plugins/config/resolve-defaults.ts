import {applyDefaults, resolvePaths} from './apply-defaults.js'
import {defaultConfig} from './defaults.js'
import type {ConfigWarning} from './problems.js'
import type {ResolveOptions, ResolvedConfig} from './resolve.js'
import type {PipelockConfig} from './schema.js'
import {validateConfig} from './validate.js'

/**
 * `resolveConfig({}, options)` without zod (bench: mcp; zod and the schemas are ≈ 300 KB of source
 * and their objects, kept for a whole MCP wrap that has no config file). With an empty file the
 * file-schema check passes, there is nothing to merge, and the schema parse of the merge base is
 * a deep copy of it: new objects and arrays, keys in schema order, which is the merge base's own
 * order but in one section (below; pinned at every depth with the parse as the oracle in
 * resolve-defaults.test). The steps after the parse are resolveConfig's own.
 */
export function resolveDefaults(options: Pick<ResolveOptions, 'baseDir' | 'env'> = {}): ResolvedConfig {
  const config: PipelockConfig = structuredClone(defaultConfig())
  // The one section whose merge-base key order differs from the schema's (quarantine_dir last).
  const {enabled, action, quarantine_dir, rules, redirect_profiles, ...rest} = config.mcp_tool_policy
  config.mcp_tool_policy = {enabled, action, quarantine_dir, rules, redirect_profiles, ...rest}
  const warnings: ConfigWarning[] = []
  applyDefaults(config, {}, warnings)
  resolvePaths(config, options.baseDir)
  warnings.push(...validateConfig(config, {env: options.env}))
  return {config, warnings}
}
