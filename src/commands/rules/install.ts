import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {installBundle, rulesContext, type InstallResult} from '../../plugins/rules/index.js'

export default class RulesInstall extends BaseCommand {
  static override summary = 'Install a signed community rule bundle from a local directory'
  static override description = `Verifies DIR/bundle.yaml against its Ed25519 signature DIR/bundle.yaml.sig — first the
embedded keyring (official), then rules.trusted_keys of the config (third-party) — validates it,
and installs it as <rules_dir>/<name>/ with a bundle.lock pinning its SHA-256 and signer. A bundle
that fails verification is refused and nothing is written. A bundle without a signature installs
only with --allow-unsigned (and never under the reserved pipelock- prefix). Installed rules take
effect at the next start or config reload of pipelock run.`

  static override examples = [
    {description: 'Install a bundle signed by a key listed in rules.trusted_keys', command: '<%= config.bin %> rules install --path ./acme-rules --config pipelock.yaml'},
    {description: 'Install your own unsigned bundle', command: '<%= config.bin %> rules install --path ./my-rules --allow-unsigned --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    path: Flags.string({description: 'directory holding bundle.yaml and bundle.yaml.sig (or the bundle.yaml file)'}),
    'allow-unsigned': Flags.boolean({description: 'install a bundle that has no signature file', default: false}),
    config: Flags.string({description: 'config whose rules section (rules_dir, trusted_keys) applies'}),
  }

  async run(): Promise<InstallResult> {
    const {flags} = await this.parse(RulesInstall)
    if (flags.path === undefined) throw new PipelockError('USAGE', 'specify a bundle with --path DIR (remote sources are not supported by this version)')
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    const r = installBundle({rulesDir: ctx.rulesDir, path: flags.path, allowUnsigned: flags['allow-unsigned'], trusted: ctx.settings.trusted_keys, version: this.config.version})
    this.out(r.message)
    if (r.status === 'installed') this.out(`  ${r.rules} rules, signer: ${r.signer === undefined ? 'none (unsigned)' : `${r.signer.slice(0, 16)}...`}`)
    return r
  }
}
