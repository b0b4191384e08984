import {homedir} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {shellWord} from '../plugins/errors/index.js'
import {generateAgentKeys, resolveKeystoreDir, type AgentKeyResult} from '../plugins/signing/index.js'

export default class Keygen extends BaseCommand {
  static override summary = 'Generate an Ed25519 key pair for an agent in the keystore'
  static override description = `Writes <keystore>/agents/<agent>/id_ed25519 (private, 0600) and id_ed25519.pub (public, 0644). The agent name is the key id: list the .pub file in the roster with id=<agent>. Keystore: --keystore, else --home, else $PIPELOCK_HOME, else ~/.pipelock.`

  static override examples = [
    '<%= config.bin %> keygen receipt-signer --keystore /tmp/pipelock-keys',
    '<%= config.bin %> keygen ops-alice --force',
  ]

  static override enableJsonFlag = true

  static override args = {
    agent: Args.string({description: 'agent name ([A-Za-z0-9._-], at most 64 characters)', required: true}),
  }

  static override flags = {
    force: Flags.boolean({description: 'overwrite existing keys for this agent', default: false}),
    keystore: Flags.string({description: 'keystore directory (overrides --home and $PIPELOCK_HOME)'}),
    home: Flags.string({description: 'pipelock home directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  }

  async run(): Promise<AgentKeyResult> {
    const {args, flags} = await this.parse(Keygen)
    const keystore = resolveKeystoreDir({keystore: flags.keystore, home: flags.home, env: process.env, userHome: homedir()})
    const r = generateAgentKeys(keystore, args.agent, {force: flags.force})
    this.out(`Key pair generated for agent "${r.agent}"`)
    this.out(`Public key: ${r.publicKeyPath}`)
    this.out(`Share with: pipelock trust ${shellWord(r.agent)} ${shellWord(r.publicKeyPath)}`)
    return r
  }
}
