import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {loadPreflightConfig, reportLoadFailure} from '../cli/preflight-config.js'
import {doctorChecksSentence, type DoctorReport} from '../plugins/preflight/index.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Check what a config configures against what this host can actually enforce'
  static override description = `${doctorChecksSentence()} Each reports ok / warn / fail / info with a next step. Readability is checked as the current user (a banner says so when running as root). Exit status: 2 when any check fails, 1 when any warns, else 0; 2 when the config cannot be loaded.`

  static override examples = [
    {description: 'Doctor a config file', command: '<%= config.bin %> doctor --config pipelock.yaml'},
    {description: 'The built-in defaults, as JSON', command: '<%= config.bin %> doctor --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    'no-color': Flags.boolean({description: 'no ANSI colours (also off with NO_COLOR or when stdout is not a terminal)'}),
  }

  async run(): Promise<DoctorReport | undefined> {
    const {flags} = await this.parse(Doctor)
    const l = loadPreflightConfig(flags.config)
    if ('failure' in l) {
      reportLoadFailure(l.failure, 'config load error: ', 2, this.jsonEnabled())
      return undefined
    }
    const {runDoctor, renderDoctor, doctorExit, systemDoctorEnvironment} = await import('../plugins/preflight/index.js')
    const env = systemDoctorEnvironment()
    const sandbox = l.loaded.config.sandbox.enabled ? await import('../plugins/sandbox/index.js') : null
    const sandboxLayers = sandbox === null ? undefined : () => sandbox.probeCapabilities(process.env).layers.map((x) => ({...x, bypass: sandbox.LAYER_BYPASS[x.name]}))
    const report = runDoctor(l.loaded.config, flags.config ?? 'defaults', this.config.version, sandboxLayers === undefined ? env : {...env, sandboxLayers})
    const colour = !flags['no-color'] && !(process.env.NO_COLOR ?? '') && process.stdout.isTTY === true
    if (!this.jsonEnabled()) process.stdout.write(renderDoctor(report, colour))
    const exit = doctorExit(report)
    if (exit.line !== undefined) this.err(exit.line)
    process.exitCode = exit.code
    return report
  }
}
