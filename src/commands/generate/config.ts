import {existsSync, writeFileSync} from 'node:fs'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PRESET_NAMES, isPresetName, renderPresetYaml} from '../../plugins/config/index.js'
import {PipelockError} from '../../plugins/errors/index.js'

export default class GenerateConfig extends BaseCommand {
  static override summary = 'Print or write a commented config file for a preset'
  static override description =
    'Renders one of the shipped presets (balanced, strict, audit, claude-code, cursor, generic-agent, hostile-model) as a ' +
    'commented YAML config. The file loads back to exactly the preset. Without --out the YAML goes to stdout.'
  static override examples = [
    '<%= config.bin %> generate config --preset balanced',
    '<%= config.bin %> generate config --preset strict --out pipelock.yaml',
  ]
  static override flags = {
    preset: Flags.string({description: 'preset name', options: [...PRESET_NAMES], default: 'balanced'}),
    out: Flags.string({char: 'o', description: 'write to this file instead of stdout'}),
    force: Flags.boolean({description: 'overwrite --out if it exists', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(GenerateConfig)
    const preset = flags.preset
    if (!isPresetName(preset)) throw new PipelockError('USAGE', `unknown preset "${preset}"`)
    const yaml = renderPresetYaml(preset)
    if (flags.out === undefined) {
      process.stdout.write(yaml)
      return
    }
    if (existsSync(flags.out) && !flags.force) {
      throw new PipelockError('FILE_EXISTS', `${flags.out} already exists`, {hint: 'pass --force to overwrite it'})
    }
    try {
      // 0600: a config usually grows an api_token or a webhook secret later.
      writeFileSync(flags.out, yaml, {mode: 0o600})
    } catch (err) {
      throw new PipelockError('WRITE_FAILED', `writing ${flags.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
    }
    this.err(`wrote ${flags.out} (preset ${preset})`)
  }
}
