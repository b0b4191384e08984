import {BaseCommand} from '../cli/base-command.js'
import {PipelockError} from '../plugins/errors/index.js'

export default class Run extends BaseCommand {
  static override summary = 'Run the egress proxy in front of your agents'
  static override description =
    'Starts the Pipelock proxy (fetch endpoint, HTTP forward proxy and CONNECT) on built-in defaults or a config file.\n' +
    'The proxy is not built yet in this version: the command refuses to start rather than pretend to filter traffic.'
  static override examples = ['<%= config.bin %> run', '<%= config.bin %> run --config pipelock.yaml']

  async run(): Promise<void> {
    await this.parse(Run)
    throw new PipelockError('NOT_IMPLEMENTED', 'pipelock run: the egress proxy is not built yet in this version; refusing to start', {
      hint: 'see docs/run.md for the plan; receipts, keys and verify-receipt already work',
    })
  }
}
