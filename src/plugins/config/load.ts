import {readFileSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {refuseSpecialFile} from '../signing/index.js'
import {documentSetsNothing, loadDefaults, loadedConfig, type LoadedConfig, type LoadOptions} from './loaded.js'
import {ConfigFieldError, dotted, type ConfigWarning} from './problems.js'
import {resolveConfig, type ResolveOptions} from './resolve.js'
import type {PipelockConfig} from './schema.js'
import {validateConfig} from './validate.js'
import {ConfigYamlError, parseConfigYaml} from './yaml-source.js'
import {configFileText} from './file-encoding.js'

export type {LoadedConfig, LoadOptions}

/**
 * `pipelock run --config <path>` (§20.1) — or, without a path, the built-in defaults. Both go
 * through the same merge base, so no config and an empty file give identical results (§24 #5).
 * Every failure is a CONFIG_INVALID PipelockError naming the file and, where known, the line.
 * Synchronous on purpose: the reloader runs it inside one timer tick.
 */
export function loadConfig(file?: string, options: LoadOptions = {}): LoadedConfig {
  if (file === undefined) return loadDefaults(options)
  const env = options.env ?? process.env
  refuseSpecialFile(file, 'config')
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (err) {
    throw unreadableConfig(file, err as NodeJS.ErrnoException)
  }
  let text: string
  try {
    text = configFileText(bytes)
  } catch (err) {
    if (err instanceof ConfigYamlError) throw new PipelockError('CONFIG_INVALID', `reading config: ${err.message}`, {location: {file, line: err.line}})
    throw err
  }
  return {...loadedConfig(parseConfigText(text, file, {env, baseDir: path.dirname(path.resolve(file))}), file), text}
}

const CREATE_HINT = 'pass an existing YAML file to --config, or create one with: pipelock generate config --preset balanced --out pipelock.yaml'

/** A config file that cannot be read, said in words with the hint that fits (the errno code kept for scripts). */
function unreadableConfig(file: string, err: NodeJS.ErrnoException): PipelockError {
  const code = err.code
  if (code === 'ENOENT') return new PipelockError('FILE_NOT_FOUND', `reading config ${file}: ENOENT (no such file)`, {hint: CREATE_HINT})
  if (code === 'EISDIR') return new PipelockError('FILE_UNREADABLE', `reading config ${file}: EISDIR (a directory, not a YAML file)`, {hint: 'pass the YAML file itself to --config, e.g. --config /etc/pipelock/pipelock.yaml'})
  if (code === 'EACCES' || code === 'EPERM') {
    return new PipelockError('FILE_UNREADABLE', `reading config ${file}: ${code} (permission denied)`, {hint: 'the file exists but the user running pipelock cannot read it: check its mode and owner (ls -l), e.g. chmod 640 and chgrp to that user\'s group'})
  }
  return new PipelockError('FILE_UNREADABLE', `reading config ${file}: ${code ?? err.message}`, {hint: CREATE_HINT})
}

/** Parses config YAML text; `file` only labels errors. */
export function parseConfigText(text: string, file: string, options: ResolveOptions = {}): {config: PipelockConfig; warnings: ConfigWarning[]; document: unknown} {
  let source
  try {
    source = parseConfigYaml(text)
  } catch (err) {
    if (err instanceof ConfigYamlError) {
      throw new PipelockError('CONFIG_INVALID', `parsing config: ${err.message}`, {location: {file, line: err.line}})
    }
    throw err
  }
  try {
    const resolved = resolveConfig(source.value, {...options, lineOf: source.lineOf})
    // A file that sets nothing (zero bytes, comments only, `null`) is most often a truncated
    // write or a failed deploy: at start-up it runs as the built-in defaults, and says so (a
    // reload refuses it: reloader.ts).
    const warnings = documentSetsNothing(source.value) ? [{field: file, message: 'the file sets nothing (empty, comments only, null or {}): the built-in defaults are used'}, ...resolved.warnings] : resolved.warnings
    return {...resolved, warnings, document: source.value}
  } catch (err) {
    if (err instanceof ConfigFieldError) {
      const line = source.lineOf(err.linePath)
      const meant = err.suggestion === undefined ? '' : ` (did you mean "${err.suggestion}"?)`
      const what = err.detail === 'unknown key' ? `unknown key "${dotted(err.path)}"${meant}` : `${dotted(err.path)}: ${err.detail}`
      throw new PipelockError('CONFIG_INVALID', `invalid config: ${what}`, {
        location: {file, line},
        hint: err.detail === 'unknown key' ? 'see docs/config.md for the accepted keys; unknown keys are refused so a typo never silently disables a control' : undefined,
      })
    }
    throw err
  }
}

/** The `pipelock run` flags that override the file (§1.1): applied only when given. */
export interface RunOverrides {
  readonly mode?: 'strict' | 'balanced' | 'audit'
  readonly listen?: string
}

/**
 * §1.2 step 1: apply `--mode` / `--listen` on top of the loaded config, then validate again
 * (an override can make a config invalid, e.g. `--mode strict` with an empty allowlist) and
 * recompute the hash. Pass the same function as the reloader's `load` so a reload keeps the flags.
 */
export function applyRunOverrides(loaded: LoadedConfig, overrides: RunOverrides, options: LoadOptions = {}): LoadedConfig {
  if (overrides.mode === undefined && overrides.listen === undefined) return loaded
  const config = structuredClone(loaded.config)
  if (overrides.mode !== undefined) config.mode = overrides.mode
  if (overrides.listen !== undefined) config.fetch_proxy.listen = overrides.listen
  let validation: ConfigWarning[]
  try {
    validation = validateConfig(config, {env: options.env ?? process.env})
  } catch (err) {
    if (err instanceof ConfigFieldError) {
      throw new PipelockError('CONFIG_INVALID', `invalid config after command-line overrides: ${err.message}`, {
        location: loaded.path === undefined ? undefined : {file: loaded.path},
      })
    }
    throw err
  }
  const seen = new Set<string>()
  const warnings = [...loaded.warnings, ...validation].filter((w) => {
    const key = `${w.field}\u0000${w.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  // Listen warnings describe the old address; drop them when --listen replaced it.
  const kept = overrides.listen === undefined ? warnings : warnings.filter((w) => w.field !== 'fetch_proxy.listen' || validation.includes(w))
  return loadedConfig({config, warnings: kept, document: loaded.document}, loaded.path)
}
