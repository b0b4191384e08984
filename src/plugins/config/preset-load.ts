import {configHash} from './hash.js'
import type {LoadedConfig, LoadOptions} from './load.js'
import {presetConfig, type PresetName} from './presets.js'
import {resolveConfig} from './resolve.js'

/**
 * A shipped preset as a loaded config, without a file (`pipelock run --preset balanced`): the
 * same effective config that `generate config --preset P` writes and `--config` would load back.
 */
export function loadPresetConfig(name: PresetName, options: LoadOptions = {}): LoadedConfig {
  const r = resolveConfig(presetConfig(name), {env: options.env ?? process.env, preset: true})
  return {config: r.config, warnings: r.warnings, path: undefined, hash: configHash(r.config)}
}
