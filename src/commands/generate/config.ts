import {existsSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PRESET_NAMES, isPresetName, renderPresetYaml} from '../../plugins/config/index.js'
import {PipelockError} from '../../plugins/errors/index.js'

/** --json result: the YAML itself, or where it was written (absolute). */
export interface GeneratedConfig {
  preset: string
  config?: string
  path?: string
}

export default class GenerateConfig extends BaseCommand {
  static override summary = 'Print or write a commented config file for a preset'
  static override description =
    'Renders one of the shipped presets (balanced, strict, audit, claude-code, cursor, generic-agent, hostile-model) as a ' +
    'commented YAML config. The file loads back to exactly the preset. Without --output the YAML goes to stdout; with --json the result is {"preset", "config"} or {"preset", "path"}.'
  static override examples = [
    '<%= config.bin %> generate config --preset balanced',
    '<%= config.bin %> generate config --preset strict --output pipelock.yaml',
    '<%= config.bin %> generate config --preset claude-code --output pipelock.yaml --json',
  ]
  static override enableJsonFlag = true
  static override flags = {
    preset: Flags.string({description: 'preset name', options: [...PRESET_NAMES], default: 'balanced'}),
    output: Flags.string({char: 'o', aliases: ['out'], description: 'write to this file instead of stdout (relative to the working directory; --out is accepted too)'}),
    force: Flags.boolean({description: 'overwrite --output if it exists', default: false}),
  }

  async run(): Promise<GeneratedConfig> {
    const {flags} = await this.parse(GenerateConfig)
    const preset = flags.preset
    if (!isPresetName(preset)) throw new PipelockError('USAGE', `unknown preset "${preset}"`)
    const yaml = renderPresetYaml(preset)
    if (flags.output === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(yaml)
      return {preset, config: yaml}
    }
    const file = path.resolve(flags.output)
    if (existsSync(file) && !flags.force) {
      throw new PipelockError('FILE_EXISTS', `${flags.output} already exists`, {hint: 'pass --force to overwrite it'})
    }
    try {
      // 0600: a config usually grows an api_token or a webhook secret later.
      writeFileSync(file, yaml, {mode: 0o600})
    } catch (err) {
      throw new PipelockError('WRITE_FAILED', `writing ${flags.output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    this.err(`wrote ${flags.output} (preset ${preset})`)
    return {preset, path: file}
  }
}
