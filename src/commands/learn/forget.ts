import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {auditLine, lifecycleEnv, runLearnForget, type ForgetResult} from '../../plugins/learn/index.js'
import {loadEd25519Arithmetic, resolveKeystoreDir} from '../../plugins/signing/index.js'
import {activeSelectorsHolding, fileTombstone} from '../../plugins/store/index.js'

export default class LearnForget extends BaseCommand {
  static override summary = 'Remove a rule from a candidate and tombstone the prior contract hash'
  static override description = `Verifies the candidate's signature, removes every rule with --rule-id, re-signs the reduced contract (prior_contract_hash = the old hash), writes a tombstone for the old hash signed by the activation key (<tombstone-dir>/sha256-<hex>.tombstone.yaml) and appends a contract_redaction_request receipt. With --store the tombstone is also filed into <store>/tombstones/, so promote refuses the old contract from then on; --store needs --roster and --roster-root-fingerprint (those promote uses for the store), and an activation key the roster does not authorise is refused before anything is written.

--activation-key takes the forms learn promote accepts: a keystore key id, or a key file from signing key generate by its path or by its key_id among the key files in --keystore.`

  static override examples = [
    '<%= config.bin %> learn forget --candidate /tmp/agent.ratified.yaml --rule-id r-0123456789abcdef0123 --reason operator_request --activation-key activation-1',
    '<%= config.bin %> learn forget --candidate /tmp/agent.ratified.yaml --rule-id r-0123456789abcdef0123 --reason pii --activation-key activation-1 --store /var/lib/pipelock/contracts --roster /etc/pipelock/roster.json --roster-root-fingerprint sha256:<hex>',
  ]

  static override enableJsonFlag = true

  static override flags = {
    candidate: Flags.string({description: 'candidate contract file', required: true}),
    'rule-id': Flags.string({description: 'rule to remove', required: true}),
    reason: Flags.string({description: 'reason class recorded in the redaction receipt', required: true}),
    out: Flags.string({description: 'destination file (default <candidate>.forgotten.yaml)'}),
    'tombstone-dir': Flags.string({description: 'tombstone directory (default <candidate dir>/tombstones)'}),
    'receipt-out': Flags.string({description: 'receipt JSONL file (default <dir of out>/redaction-receipts.jsonl)'}),
    store: Flags.string({description: 'also file the tombstone into this contract store (needs --roster and --roster-root-fingerprint)'}),
    roster: Flags.string({description: "the store's signed key roster (as learn promote --roster); the activation key must be authorised by it", dependsOn: ['roster-root-fingerprint']}),
    'roster-root-fingerprint': Flags.string({description: 'pinned sha256:<hex> fingerprint of the roster root key', dependsOn: ['roster']}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'compile-key-agent': Flags.string({description: 'keystore key that re-signs (default: the candidate signer_key_id)'}),
    'activation-key': Flags.string({description: 'signs the tombstone and receipt (required unless --deterministic): a keystore key id, or a key file from signing key generate, by its path or by its key_id among the key files in --keystore'}),
    'contract-key': Flags.string({description: 'public key that must verify the incoming candidate (default: keystore public key of its signer)'}),
    deterministic: Flags.boolean({description: 'tests only: fixed clock, ids and public deterministic keys', default: false}),
  }

  async run(): Promise<ForgetResult> {
    const {flags} = await this.parse(LearnForget)
    // --out may be the candidate (rewritten in place); the receipt file may not.
    refuseFlagOutputs(flags, ['receipt-out'], ['candidate', 'out', 'contract-key', 'roster'])
    const store = flags.store
    // the curve arithmetic of the streamed signature check: the candidate is then read rule by rule
    await loadEd25519Arithmetic()
    const r = runLearnForget({
      candidate: flags.candidate,
      ruleId: flags['rule-id'],
      reason: flags.reason,
      ...(flags.out === undefined ? {} : {out: flags.out}),
      ...(flags['tombstone-dir'] === undefined ? {} : {tombstoneDir: flags['tombstone-dir']}),
      ...(flags['receipt-out'] === undefined ? {} : {receiptOut: flags['receipt-out']}),
      keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
      ...(flags['compile-key-agent'] === undefined ? {} : {compileKeyAgent: flags['compile-key-agent']}),
      ...(flags['activation-key'] === undefined ? {} : {activationKey: flags['activation-key']}),
      ...(flags['contract-key'] === undefined ? {} : {contractKey: flags['contract-key']}),
      env: lifecycleEnv(flags.deterministic),
      ...(store === undefined ? {} : {fileIntoStore: (yaml: string, roster, nowNanos) => fileTombstone(store, yaml, {roster, nowNanos}).file}),
      ...(flags.roster === undefined || flags['roster-root-fingerprint'] === undefined ? {} : {storeRoster: {path: flags.roster, rootFingerprint: flags['roster-root-fingerprint']}}),
    })
    this.out(`forget: rule ${r.ruleId} removed, candidate written to ${r.dest}, tombstone written to ${r.tombstone}`)
    // Tombstoning the contract the store has active is allowed (erasure must not wait), but a proxy
    // (re)started on the store then refuses to load it: say so, and how to move on.
    const held = store === undefined ? undefined : activeSelectorsHolding(store, r.priorContractHash)
    if (held !== undefined) {
      this.err(
        `WARNING: learn forget: contract ${r.priorContractHash} is active in ${store} (generation ${held.generation}: ${held.selectors.join(', ')}); ` +
          'a pipelock run started on this store refuses to start (contract store: prior contract is tombstoned), and a running one keeps enforcing it until replaced; ' +
          `promote ${r.dest} (learn promote) or roll back to a generation without it (learn rollback) to replace it`,
      )
    }
    this.err(
      auditLine(
        {event: 'learn_forget', candidate: r.candidate, dest: r.dest, rule: r.ruleId, signer_key_id: r.activationKeyId, output: r.receiptFile, receipts_emitted: 1, tombstone: r.tombstone},
        false,
      ),
    )
    return r
  }
}
