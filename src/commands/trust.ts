import {homedir} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {resolveKeystoreDir, trustAgentKey, type TrustResult} from '../plugins/signing/index.js'

export default class Trust extends BaseCommand {
  static override summary = "Trust another agent's public key"
  static override description = `Checks that PUBFILE is a pipelock-ed25519-public-v1 key and copies it to
<keystore>/trusted_keys/<name>.pub (0600). Keystore: --keystore, else --home, else $PIPELOCK_HOME, else ~/.pipelock.`

  static override examples = ['<%= config.bin %> trust peer-agent ./peer/id_ed25519.pub --keystore /tmp/pipelock-keys']

  static override enableJsonFlag = true

  static override args = {
    name: Args.string({description: 'name to trust the key under', required: true}),
    pubfile: Args.string({description: 'public key file (pipelock-ed25519-public-v1)', required: true}),
  }

  static override flags = {
    force: Flags.boolean({description: 'replace an existing trusted key of that name', default: false}),
    keystore: Flags.string({description: 'keystore directory (overrides --home and $PIPELOCK_HOME)'}),
    home: Flags.string({description: 'pipelock home directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  }

  async run(): Promise<TrustResult> {
    const {args, flags} = await this.parse(Trust)
    const keystore = resolveKeystoreDir({keystore: flags.keystore, home: flags.home, env: process.env, userHome: homedir()})
    const r = trustAgentKey(keystore, args.name, args.pubfile, {force: flags.force})
    this.out(`Trusted key for "${r.agent}" saved to ${r.path}`)
    this.out(`  fingerprint: ${r.fingerprint}`)
    return r
  }
}
