import {randomBytes} from 'node:crypto'
import {homedir} from 'node:os'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {fixedClock, systemClock} from '../../plugins/canonical/index.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'
import {DETERMINISTIC_LIFECYCLE_TIME, lifecycleAuditLine, runPromote, type PromoteResult, type RaisedPolicy} from '../../plugins/store/index.js'
import {uuidv7} from '../../plugins/canonical/index.js'

export const lifecycleFlags = {
  'contract-store': Flags.string({description: 'contract store root directory (created 0750 if missing)', required: true}),
  roster: Flags.string({description: 'signed key roster (.json/.yaml/.yml)', required: true}),
  'roster-root-fingerprint': Flags.string({description: 'pinned sha256:<hex> fingerprint of the roster root key', required: true}),
  'activation-key': Flags.string({description: 'the primary activation signer (roster purpose contract-activation-signing, with a principal): a keystore key id (agents/<id>/id_ed25519), or a key file from signing key generate, by its path or by its key_id among the key files in --keystore', required: true}),
  'dual-control-from': Flags.string({description: 'a second activation signer (another principal), given as --activation-key is; requires 2 distinct principals'}),
  keystore: Flags.string({description: 'keystore directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  'receipt-key-agent': Flags.string({description: 'keystore key id that signs committed receipts', default: 'receipt-signing'}),
  'receipt-out': Flags.string({description: 'lifecycle receipts, JSONL (default <store>/activation-receipts.jsonl)'}),
  'environment-id': Flags.string({description: 'environment id of the manifest (required for the first promote)'}),
  tenant: Flags.string({description: 'environment tenant'}),
  'deployment-id': Flags.string({description: 'environment deployment id'}),
  production: Flags.boolean({description: 'production policy: --dual-control-from required, roster must hold ≥ 3 active activation principals; the store keeps demanding two principals afterwards (policy.json is raised)', default: false}),
  deterministic: Flags.boolean({description: `tests only: clock ${DETERMINISTIC_LIFECYCLE_TIME} and fixed ids (keys still come from the keystore)`, default: false}),
}

export function lifecycleBase(flags: {
  'contract-store': string
  roster: string
  'roster-root-fingerprint': string
  'activation-key': string
  'dual-control-from'?: string
  keystore?: string
  'receipt-key-agent': string
  'receipt-out'?: string
  'environment-id'?: string
  tenant?: string
  'deployment-id'?: string
  production: boolean
  deterministic: boolean
}) {
  const clock = flags.deterministic ? fixedClock(DETERMINISTIC_LIFECYCLE_TIME) : systemClock
  return {
    // Relative paths are the working directory's, as for every other path flag of learn.
    storeDir: path.resolve(flags['contract-store']),
    rosterPath: flags.roster,
    rosterRootFingerprint: flags['roster-root-fingerprint'],
    activationKey: flags['activation-key'],
    ...(flags['dual-control-from'] === undefined ? {} : {dualControlFrom: flags['dual-control-from']}),
    keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
    receiptKeyAgent: flags['receipt-key-agent'],
    ...(flags['receipt-out'] === undefined ? {} : {receiptOut: path.resolve(flags['receipt-out'])}),
    ...(flags['environment-id'] === undefined ? {} : {environmentId: flags['environment-id']}),
    ...(flags.tenant === undefined ? {} : {tenant: flags.tenant}),
    ...(flags['deployment-id'] === undefined ? {} : {deploymentId: flags['deployment-id']}),
    production: flags.production,
    deterministic: flags.deterministic,
    clock,
    newId: () => uuidv7(systemClock.nowNanos(), (n) => randomBytes(n)),
  }
}

/** The line that says a --production promote or rollback raised the store's policy. */
export function policyRaisedLine(p: RaisedPolicy, what: 'promote' | 'rollback'): string {
  return `store policy: ${p.file} minimum_signatures ${p.minimumSignatures} ratified_only ${p.ratifiedOnly} (raised by this --production ${what}; lower it only with learn store policy)`
}

export default class LearnPromote extends BaseCommand {
  static override summary = 'Activate a ratified contract: sign a new active manifest and swap it into the contract store'
  static override description = `Builds the next active manifest (generation = latest accepted + 1, prior_manifest_hash = its hash, or sha256:genesis for the first promote) with one selector for --selector (it replaces the whole selector set: the selectors of the previous generation for other agents are no longer active, and the command warns naming those whose agents the new selector does not still select), signs it with the activation key (and --dual-control-from), writes a contract_promote_intent receipt, swaps <store>/active.json under the store lock (compare-and-swap on the prior hash, monotonic generation, environment tuple, roster-verified signatures and contracts, tombstones), records it in manifests/ and the journal, and writes a contract_promote_committed receipt.

--candidate FILE stages the ratified contract into <store>/history/ itself (verified against the roster; written only when the swap is accepted). Without it, --contract must name a contract already in history/.

Refusals of bad input (tampered candidate, a candidate over the 16 MiB a stored contract may hold, keys not authorised by the roster, a corrupt store, a replayed older active.json, an unreadable tombstone) happen before anything is written. A promote that the store's policy denies (a tombstoned contract, a lost race) exits 1 after writing the intent receipt, a committed receipt with validation_outcome "rejected" and a journal line.

The store remembers its activation policy in <store>/policy.json (set by learn store init, or by the first promote from its signers and whether the contract was ratified): a promote with fewer distinct activation principals, or of a contract without a verified contract_ratified receipt in a ratified-only store, is refused before anything is written. An accepted --production promote raises the policy's minimum to its own distinct principals (never lowers it) and says so on stdout, so from then on one operator alone can no longer promote or roll back, with or without --production. Lower the policy with learn store policy.`

  // Runnable after the set-up of docs/learn-and-lock.md ("Walk-through"), which defines W and FP.
  static override examples = [
    {
      description: 'First promote: stage a signed candidate and activate it for agent shop-agent in environment prod',
      command:
        '<%= config.bin %> learn promote --contract-store "$W/store" --roster "$W/roster.json" --roster-root-fingerprint "$FP" --activation-key ops-alice --candidate "$W/v1.yaml" --selector shop-agent --environment-id prod --tenant acme --deployment-id eu-1',
    },
    {
      description: 'Production promote with dual control (two principals sign)',
      command:
        '<%= config.bin %> learn promote --contract-store "$W/store" --roster "$W/roster.json" --roster-root-fingerprint "$FP" --activation-key ops-alice --dual-control-from ops-bob --production --candidate "$W/v2.yaml" --selector shop-agent --json',
    },
  ]

  static override enableJsonFlag = true

  static override flags = {
    ...lifecycleFlags,
    contract: Flags.string({description: 'contract hash (sha256:<hex>) to activate; optional with --candidate (must match it)'}),
    candidate: Flags.string({description: 'ratified, signed contract file to stage into history/ and activate'}),
    'ratification-receipts': Flags.string({description: 'contract_ratified receipts (JSONL) proving the contract was ratified (default <dir of --candidate>/ratification-receipts.jsonl); required by a ratified-only store'}),
    selector: Flags.string({description: 'agent name, agent glob (contains * or ?), or "default"', required: true}),
    'intent-id': Flags.string({description: 'intent id (default UUIDv7, or promote-intent-deterministic)'}),
    'allow-unenforced': Flags.boolean({description: 'activate a contract that enforces no rule (every rule capture_only: the agent is not locked); refused without it', default: false}),
  }

  async run(): Promise<PromoteResult> {
    const {flags} = await this.parse(LearnPromote)
    const result = runPromote({
      ...lifecycleBase(flags),
      ...(flags.contract === undefined ? {} : {contract: flags.contract}),
      ...(flags.candidate === undefined ? {} : {candidate: flags.candidate}),
      ...(flags['ratification-receipts'] === undefined ? {} : {ratificationReceipts: flags['ratification-receipts']}),
      selector: flags.selector,
      ...(flags['intent-id'] === undefined ? {} : {intentId: flags['intent-id']}),
      allowUnenforced: flags['allow-unenforced'],
    })
    this.err(lifecycleAuditLine('learn_promote', result, flags.candidate))
    this.out(`promote: manifest ${result.manifestHash} generation ${result.generation} active`)
    if (result.policyRaised !== undefined) this.out(policyRaisedLine(result.policyRaised, 'promote'))
    for (const w of result.warnings) this.err(`WARNING: ${w}`)
    if (result.replacedSelectors.length > 0) {
      this.err(
        `WARNING: learn promote: generation ${result.generation} holds only the selector for ${flags.selector}; no longer active: ${result.replacedSelectors.join(', ')}` +
          ' (an agent without a contract is denied while learn_lock is live, unless listed in learn_lock.unlocked_agents)',
      )
    }
    return result
  }
}
