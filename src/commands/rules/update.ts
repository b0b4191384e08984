import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {rulesContext, updateBundles, type UpdateOutcome} from '../../plugins/rules/index.js'

export default class RulesUpdate extends BaseCommand {
  static override summary = 'Fetch installed rule bundles again from their HTTPS source and install newer signed versions'
  static override description = `For each installed bundle (or NAME only) that came from an HTTPS source, fetches the bundle and its signature again and checks them exactly as rules install does — signature against the embedded keyring and rules.trusted_keys, validation — and also: the signer must be the one pinned in bundle.lock (--allow-key-rotation accepts another trusted one), the bundle keeps its name, an older version needs --force, and the same version with other bytes (a republish) needs --force. Only a bundle that passes every check replaces the installed one; any failure keeps the old bundle exactly as it was. Bundles installed from a local path are skipped. Exits 1 when any bundle failed to update.`

  static override examples = [
    {description: 'Update every bundle installed from a URL', command: '<%= config.bin %> rules update --config pipelock.yaml'},
    {description: 'Update one bundle, accepting a new signer listed in rules.trusted_keys', command: '<%= config.bin %> rules update acme-rules --allow-key-rotation --json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    name: Args.string({description: 'the installed bundle to update (default: all)', required: false}),
  }

  static override flags = {
    force: Flags.boolean({description: 'accept an older version, or the same version with a different digest', default: false}),
    'allow-key-rotation': Flags.boolean({description: 'accept a signer other than the one pinned at install (it must still be trusted)', default: false}),
    config: Flags.string({description: 'config whose rules section (rules_dir, trusted_keys) applies'}),
  }

  async run(): Promise<{rulesDir: string; bundles: UpdateOutcome[]; failed: number}> {
    const {args, flags} = await this.parse(RulesUpdate)
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    const bundles = await updateBundles(args.name, {
      rulesDir: ctx.rulesDir, trusted: ctx.settings.trusted_keys, version: this.config.version, force: flags.force, allowKeyRotation: flags['allow-key-rotation'],
    })
    for (const b of bundles) this.out(b.status === 'failed' ? `FAIL  ${b.message}` : b.message)
    const failed = bundles.filter((b) => b.status === 'failed').length
    const result = {rulesDir: ctx.rulesDir, bundles, failed}
    // With --json the per-bundle outcomes are the answer (which bundle failed and why), exit 1 still.
    if (failed > 0 && this.jsonEnabled()) {
      process.exitCode = 1
      return result
    }
    if (failed > 0) throw new PipelockError('RULES_BUNDLE_INVALID', `${failed} bundle(s) failed to update`)
    if (bundles.length === 0) this.out('No bundles installed.')
    return result
  }
}
