import {BaseCommand} from '../../../cli/base-command.js'
import {runStorePolicy, type StorePolicyResult} from '../../../plugins/store/index.js'
import {Flags} from '@oclif/core'
import {lifecycleBase, lifecycleFlags} from '../promote.js'

/** Flags of `learn store init` and `learn store policy`: who signs, and the policy itself. */
export const storePolicyFlags = {
  'contract-store': lifecycleFlags['contract-store'],
  roster: lifecycleFlags.roster,
  'roster-root-fingerprint': lifecycleFlags['roster-root-fingerprint'],
  'activation-key': lifecycleFlags['activation-key'],
  'dual-control-from': lifecycleFlags['dual-control-from'],
  keystore: lifecycleFlags.keystore,
  'receipt-key-agent': lifecycleFlags['receipt-key-agent'],
  deterministic: lifecycleFlags.deterministic,
  'minimum-signatures': Flags.integer({description: 'distinct activation principals every promote, rollback and policy change must carry (1–16)', required: true}),
  'ratified-only': Flags.boolean({description: 'accept only contracts with a verified contract_ratified receipt (learn promote --ratification-receipts)', default: false}),
}

export default class LearnStoreInit extends BaseCommand {
  static override summary = "Set a contract store's activation policy before its first promote"
  static override description = `Writes <store>/policy.json: the minimum number of distinct activation principals every promote, rollback and policy change must carry, and whether only ratified contracts (with a verified contract_ratified receipt) may be promoted. The policy is signed by the activation keys given (as many principals as it demands) and verified against the roster on every later promote and rollback; a weaker operation is refused before anything is written. Without init, the first learn promote sets the policy from its own signers and ratification. Refused when the store already has a policy: change it with learn store policy.`

  // Runnable after the set-up of docs/learn-and-lock.md ("Walk-through"), which defines W and FP.
  static override examples = [
    {
      description: 'Demand dual control and ratified contracts from the first promote on',
      command:
        '<%= config.bin %> learn store init --contract-store "$W/store" --roster "$W/roster.json" --roster-root-fingerprint "$FP" --activation-key ops-alice --dual-control-from ops-bob --minimum-signatures 2 --ratified-only',
    },
  ]

  static override enableJsonFlag = true
  static override flags = storePolicyFlags

  async run(): Promise<StorePolicyResult> {
    const {flags} = await this.parse(LearnStoreInit)
    const r = runStorePolicy({...lifecycleBase({...flags, production: false}), mode: 'init', minimumSignatures: flags['minimum-signatures'], ratifiedOnly: flags['ratified-only']})
    this.out(`store init: ${r.policyFile} minimum_signatures ${r.minimumSignatures} ratified_only ${r.ratifiedOnly}`)
    return r
  }
}
