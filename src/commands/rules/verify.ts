import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {rulesContext, verifyBundles, type VerifiedBundle} from '../../plugins/rules/index.js'

export default class RulesVerify extends BaseCommand {
  static override summary = 'Re-verify every installed rule bundle (digest, signature, contents)'
  static override description = `Runs the checks pipelock run applies before loading a bundle: the bytes against the SHA-256 pinned in bundle.lock, the signature against the pinned signer (embedded keyring or rules.trusted_keys), then parsing and validation. A bundle that fails here does not load at run time either. Exits 1 when any bundle fails.`

  static override examples = [
    {description: 'Verify the bundles a config uses', command: '<%= config.bin %> rules verify --config pipelock.yaml'},
    {description: 'As JSON', command: '<%= config.bin %> rules verify --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({description: 'config whose rules section (rules_dir, trusted_keys) applies'}),
  }

  async run(): Promise<{rulesDir: string; bundles: VerifiedBundle[]; failed: number}> {
    const {flags} = await this.parse(RulesVerify)
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    const bundles = verifyBundles(ctx.rulesDir, {trusted: ctx.settings.trusted_keys, version: this.config.version})
    for (const b of bundles) this.out(b.ok ? `OK    ${b.name} (${b.detail})` : `FAIL  ${b.name}: ${b.detail}`)
    const failed = bundles.filter((b) => !b.ok).length
    const result = {rulesDir: ctx.rulesDir, bundles, failed}
    // With --json the per-bundle results are the answer (which bundle failed and why), exit 1 still.
    if (failed > 0 && this.jsonEnabled()) {
      process.exitCode = 1
      return result
    }
    if (failed > 0) throw new PipelockError('RULES_BUNDLE_INVALID', `${failed} bundle(s) failed verification`)
    this.out(`All ${bundles.length} bundle(s) verified.`)
    return result
  }
}
