import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeGeneratedFile} from '../../cli/generated-file.js'
import {PRESET_NAMES, isPresetName, loadPresetConfig, renderPresetYaml} from '../../plugins/config/index.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {unrunnableFeatures} from '../../plugins/proxy/index.js'

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
    'commented YAML config. The file loads back to exactly the preset. Without --output the YAML goes to stdout; with --json the result is {"preset", "config"} or {"preset", "path"}. ' +
    'Every preset starts under this version of pipelock run; a preset it could not start would still be written, with a warning on stderr naming what is missing.'
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
    // Say so when this build's `pipelock run` would refuse what it is about to write.
    const missing = unrunnableFeatures(loadPresetConfig(preset, {env: {}}).config)
    if (missing.length > 0) {
      this.err(`warning: pipelock run in this version refuses preset ${preset}: it enables ${missing.join(', ')}, which this version does not implement`)
    }
    if (flags.output === undefined) {
      if (!this.jsonEnabled()) process.stdout.write(yaml)
      return {preset, config: yaml}
    }
    const file = writeGeneratedFile(flags.output, yaml, flags.force)
    this.err(`wrote ${flags.output} (preset ${preset})`)
    return {preset, path: file}
  }
}
