import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {installBundle, installRemote, rulesContext, type InstallResult} from '../../plugins/rules/index.js'

export default class RulesInstall extends BaseCommand {
  static override summary = 'Install a signed community rule bundle from an HTTPS URL, the official registry or a local directory'
  static override description = `Fetches SOURCE (an https:// URL of a bundle.yaml, its signature at <URL>.sig; or a bundle name, looked up in the official registry, whose bundle must carry that name) — or reads --path DIR/bundle.yaml and DIR/bundle.yaml.sig — and verifies the Ed25519 signature against the embedded keyring (official), then rules.trusted_keys of the config (third-party), then validates the bundle. Only then is it written, as <rules_dir>/<name>/ with a bundle.lock pinning its SHA-256, signer and source (which rules update fetches again). A bundle that fails verification is refused and nothing is written. Remote sources are HTTPS only (a redirect to anything else is refused), at most 1 MiB, 30 s. A local bundle without a signature installs only with --allow-unsigned (and never under the reserved pipelock- prefix). Installed rules take effect at the next start or config reload of pipelock run.`

  static override examples = [
    {description: 'Install a bundle published over HTTPS, signed by a key listed in rules.trusted_keys', command: '<%= config.bin %> rules install https://rules.example.com/acme-rules/bundle.yaml --config pipelock.yaml'},
    {description: 'Install a bundle signed by a key listed in rules.trusted_keys from a directory', command: '<%= config.bin %> rules install --path ./acme-rules --config pipelock.yaml'},
    {description: 'Install your own unsigned bundle', command: '<%= config.bin %> rules install --path ./my-rules --allow-unsigned --json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    source: Args.string({description: 'https:// URL of a bundle.yaml, or a bundle name in the official registry', required: false}),
  }

  static override flags = {
    source: Flags.string({description: 'https:// URL of a bundle.yaml (the same as the SOURCE argument)'}),
    path: Flags.string({description: 'directory holding bundle.yaml and bundle.yaml.sig (or the bundle.yaml file)'}),
    'allow-unsigned': Flags.boolean({description: 'install a local bundle that has no signature file', default: false}),
    config: Flags.string({description: 'config whose rules section (rules_dir, trusted_keys) applies'}),
  }

  async run(): Promise<InstallResult> {
    const {args, flags} = await this.parse(RulesInstall)
    const remote = args.source ?? flags.source
    if (args.source !== undefined && flags.source !== undefined) throw new PipelockError('USAGE', 'give the source once: as the argument or as --source')
    if (remote === undefined && flags.path === undefined) throw new PipelockError('USAGE', 'specify a bundle name, --source URL, or --path DIR')
    if (remote !== undefined && flags.path !== undefined) throw new PipelockError('USAGE', '--path installs a local bundle: give either a remote source or --path')
    if (remote !== undefined && flags['allow-unsigned']) throw new PipelockError('USAGE', '--allow-unsigned applies to --path only: remote bundles must be signed')
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    const opts = {rulesDir: ctx.rulesDir, trusted: ctx.settings.trusted_keys, version: this.config.version}
    const r = remote !== undefined ? await installRemote(remote, opts) : installBundle({...opts, path: flags.path!, allowUnsigned: flags['allow-unsigned']})
    this.out(r.message)
    if (r.status === 'installed') this.out(`  ${r.rules} rules, signer: ${r.signer === undefined ? 'none (unsigned)' : `${r.signer.slice(0, 16)}...`}`)
    return r
  }
}
