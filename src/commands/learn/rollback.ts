import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {lifecycleAuditLine, runRollback, type RollbackResult} from '../../plugins/store/index.js'
import {lifecycleBase, lifecycleFlags, policyRaisedLine} from './promote.js'

export default class LearnRollback extends BaseCommand {
  static override summary = 'Re-activate an earlier accepted manifest as a new, higher generation'
  static override description = `Loads the accepted manifest --to from <store>/manifests/ (chain continuous, contracts verified against the roster as of now, not tombstoned), copies its selectors into a new manifest (generation = latest accepted + 1, prior_manifest_hash = latest accepted, rollback_target = --to), signs it, writes a contract_rollback_authorized receipt, swaps active.json under the store lock and writes a contract_rollback_committed receipt. The old manifest file is never reused, so generations only grow. In a ratified-only store every contract the target activates needs a verified contract_ratified receipt, looked up in --ratification-receipts (default <store>/ratification-receipts.jsonl, where promote keeps the receipts that proved its contracts ratified). The store's policy (policy.json) applies as to promote: a rollback signed by fewer distinct activation principals than it demands is refused, and an accepted --production rollback raises it to its own principals. A target whose contract enforces no rule (every rule capture_only, e.g. a generation promoted with --allow-unenforced) is refused before anything is written unless --allow-unenforced is given; then rollback warns.

stdout names the target hash; the audit line on stderr carries the new manifest hash.`

  // Runnable after the set-up of docs/learn-and-lock.md ("Walk-through"), which defines W, FP and GEN1.
  static override examples = [
    {
      description: 'Re-activate generation 1 as a new generation, under dual control',
      command:
        '<%= config.bin %> learn rollback --contract-store "$W/store" --roster "$W/roster.json" --roster-root-fingerprint "$FP" --activation-key ops-bob --dual-control-from ops-carol --production --to "$GEN1"',
    },
  ]

  static override enableJsonFlag = true

  static override flags = {
    ...lifecycleFlags,
    to: Flags.string({description: 'accepted manifest hash (sha256:<hex>) to re-activate: a "manifest" line of learn store history, not a contract hash', required: true}),
    'authorization-id': Flags.string({description: 'authorization id (default UUIDv7, or rollback-authorization-deterministic)'}),
    'ratification-receipts': Flags.string({description: 'contract_ratified receipts (JSONL) for the target\'s contracts, required by a ratified-only store (default <store>/ratification-receipts.jsonl)'}),
    'allow-unenforced': Flags.boolean({description: 're-activate a manifest with a contract that enforces no rule (every rule capture_only: the agent is not locked); refused without it', default: false}),
  }

  async run(): Promise<RollbackResult> {
    const {flags} = await this.parse(LearnRollback)
    const result = runRollback({
      ...lifecycleBase(flags),
      to: flags.to,
      ...(flags['authorization-id'] === undefined ? {} : {authorizationId: flags['authorization-id']}),
      ...(flags['ratification-receipts'] === undefined ? {} : {ratificationReceipts: flags['ratification-receipts']}),
      allowUnenforced: flags['allow-unenforced'],
    })
    this.err(lifecycleAuditLine('learn_rollback', result))
    this.out(`rollback: manifest ${result.targetHash} reactivated as generation ${result.generation}`)
    if (result.policyRaised !== undefined) this.out(policyRaisedLine(result.policyRaised, 'rollback'))
    for (const w of result.warnings) this.err(`WARNING: ${w}`)
    return result
  }
}
