import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {deliverGenerated, generatedFileFlags, type GeneratedDeployFile} from '../../cli/generated-file.js'
import {loadConfig} from '../../plugins/config/index.js'
import {deployPlan, renderSystemdUnit} from '../../plugins/deploy/index.js'

export default class GenerateSystemd extends BaseCommand {
  static override summary = 'Write a hardened systemd unit for a config'
  static override description =
    'Loads --config (it must be a config pipelock run accepts) and prints a systemd unit that runs it: DynamicUser, ' +
    'ProtectSystem=strict, the state directory /var/lib/pipelock (PIPELOCK_HOME: keystore, capture/, recorder/) plus every ' +
    'directory the config writes, the contract store read-only, ExecReload sending SIGHUP. The unit refers to the config ' +
    'at --install-path (where you copy it on the host). docs/install.md walks through installing it.'
  static override examples = [
    '<%= config.bin %> generate systemd --config pipelock.yaml',
    '<%= config.bin %> generate systemd --config pipelock.yaml --bin /usr/bin/pipelock --output pipelock.service',
  ]
  static override enableJsonFlag = true
  static override flags = {
    config: Flags.string({char: 'c', description: 'the config the unit runs (validated here)', required: true}),
    'install-path': Flags.string({description: 'where the config lives on the host', default: '/etc/pipelock/pipelock.yaml'}),
    bin: Flags.string({description: 'absolute path of pipelock on the host (npm install -g puts it in <prefix>/bin)', default: '/usr/local/bin/pipelock'}),
    ...generatedFileFlags,
  }

  async run(): Promise<GeneratedDeployFile> {
    const {flags} = await this.parse(GenerateSystemd)
    const loaded = loadConfig(flags.config)
    const text = renderSystemdUnit(deployPlan(loaded.config, flags['install-path']), {bin: flags.bin})
    return deliverGenerated('systemd', text, flags, {out: (l) => this.out(l), err: (l) => this.err(l)})
  }
}
