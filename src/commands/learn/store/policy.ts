import {BaseCommand} from '../../../cli/base-command.js'
import {runStorePolicy, type StorePolicyResult} from '../../../plugins/store/index.js'
import {lifecycleBase} from '../promote.js'
import {storePolicyFlags} from './init.js'

export default class LearnStorePolicy extends BaseCommand {
  static override summary = "Change a contract store's activation policy, signed by the quorum it currently demands"
  static override description = `Replaces <store>/policy.json (see learn store init). The change must be signed by at least as many distinct activation principals as the policy in force demands (--activation-key, --dual-control-from), and by as many as the new policy demands. Lowering the minimum or dropping --ratified-only is allowed only this way, so one operator can never weaken a dual-control store alone.`

  // Runnable after the set-up of docs/learn-and-lock.md ("Walk-through") and learn store init.
  static override examples = [
    {
      description: 'Keep dual control, stop requiring ratification (both principals sign)',
      command:
        '<%= config.bin %> learn store policy --contract-store "$W/store" --roster "$W/roster.json" --roster-root-fingerprint "$FP" --activation-key ops-alice --dual-control-from ops-bob --minimum-signatures 2',
    },
  ]

  static override enableJsonFlag = true
  static override flags = storePolicyFlags

  async run(): Promise<StorePolicyResult> {
    const {flags} = await this.parse(LearnStorePolicy)
    const r = runStorePolicy({...lifecycleBase({...flags, production: false}), mode: 'change', minimumSignatures: flags['minimum-signatures'], ratifiedOnly: flags['ratified-only']})
    this.out(`store policy: ${r.policyFile} minimum_signatures ${r.minimumSignatures} ratified_only ${r.ratifiedOnly}`)
    return r
  }
}
