import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {
  displayTime,
  verifyReceiptInput,
  type ChainReport,
  type EvidenceReport,
  type SingleReceiptReport,
  type VerifyReceiptReport,
} from '../plugins/receipts/index.js'

export default class VerifyReceipt extends BaseCommand {
  static override summary = 'Verify a signed receipt, a receipt chain or an evidence receipt, offline'
  static override description = `Verifies Ed25519 signatures and hash chains without network access.

Modes:
  FILE ending in .jsonl   a flight-recorder receipt chain (every action_receipt entry, in file order)
  --chain DIR             the recorder files evidence-<session>-<n>.jsonl of one session in DIR
  any other FILE          one ActionReceipt v1, or one EvidenceReceipt v2 envelope (needs --key)

Without --key the signer is NOT pinned: the receipt proves its own integrity, not who signed it.
Pin the signer with --key (a public key file or 64 hex characters) for audit use.
Exit status: 0 valid, 1 invalid or unreadable.`

  static override examples = [
    {description: 'Verify one receipt, pinning the signer key', command: '<%= config.bin %> verify-receipt receipt.json --key 4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'},
    {description: 'Verify a flight-recorder chain file', command: '<%= config.bin %> verify-receipt evidence-proxy-0.jsonl --key signer.pub'},
    {description: 'Verify all recorder files of session "proxy" in a directory, as JSON', command: '<%= config.bin %> verify-receipt --chain /var/lib/pipelock/recorder --session proxy --key signer.pub --json'},
    {description: 'Verify a chain across a key rotation', command: '<%= config.bin %> verify-receipt run.jsonl --key old.pub --rotation-endorsement rotation.json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    file: Args.string({description: 'receipt (.json), chain (.jsonl) or evidence receipt file', required: false}),
  }

  static override flags = {
    key: Flags.string({description: 'trusted signer public key: file path (pipelock-ed25519-public-v1 or hex) or 64 hex chars'}),
    chain: Flags.string({description: 'directory of flight-recorder files to verify as one chain'}),
    session: Flags.string({description: 'recorder session id (for --chain and rotation endorsements)', default: 'proxy'}),
    'rotation-endorsement': Flags.string({description: 'rotation endorsement file authorising a key change (repeatable)', multiple: true}),
  }

  async run(): Promise<VerifyReceiptReport> {
    const {args, flags} = await this.parse(VerifyReceipt)
    const report = await verifyReceiptInput({
      file: args.file,
      key: flags.key,
      chainDir: flags.chain,
      session: flags.session,
      rotationEndorsements: flags['rotation-endorsement'],
    })
    if (report.kind === 'chain') this.renderChain(report)
    else if (report.kind === 'evidence_receipt_v2') this.renderEvidence(report)
    else this.renderSingle(report)
    if (report.valid && !report.signerPinned && report.kind !== 'evidence_receipt_v2') {
      this.err('note: signer not pinned (no --key): verified against the key embedded in the receipt; pass --key to pin the expected signer')
    }
    if (!report.valid) process.exitCode = 1
    return report
  }

  private renderSingle(r: SingleReceiptReport): void {
    if (r.stage === 'parse') {
      this.out(`FAILED: ${r.path}: ${r.error}`)
      this.err(`parsing receipt: ${r.error}`)
      return
    }
    if (!r.valid) {
      this.out(`FAILED: ${r.path}: ${r.error}`)
      this.err(`verification failed: ${r.error}`)
      return
    }
    const x = r.receipt as NonNullable<SingleReceiptReport['receipt']>
    this.out(`OK: ${r.path}`)
    this.out(`  Action ID:   ${x.actionId}`)
    this.out(`  Action Type: ${x.actionType}`)
    this.out(`  Verdict:     ${x.verdict}`)
    this.out(`  Target:      ${x.target}`)
    this.out(`  Transport:   ${x.transport}`)
    this.out(`  Timestamp:   ${displayTime(x.timestamp)}`)
    this.out(`  Signer:      ${x.signerKey}`)
    this.out(`  Chain seq:   ${x.chainSeq}`)
    this.out(`  Chain prev:  ${x.chainPrevHash}`)
    if (x.principal !== '') this.out(`  Principal:   ${x.principal}`)
    if (x.actor !== '') this.out(`  Actor:       ${x.actor}`)
    if (x.policyHash !== '') this.out(`  Policy Hash: ${x.policyHash}`)
    if (x.method !== '' || x.layer !== '') {
      this.out()
      this.out('  Full record:')
      this.out(`  ${r.actionRecordIndented}`)
    }
  }

  private renderChain(r: ChainReport): void {
    switch (r.stage) {
      case 'empty':
        this.out(`No receipts found in ${r.label}`)
        this.err(`no receipts in ${r.label}`)
        return
      case 'extraction':
        this.err(r.error as string)
        return
      case 'endorsement':
        this.out(`CHAIN BROKEN: ${r.label}`)
        this.out(`  Error:    ${r.error}`)
        this.err(`chain verification failed: ${r.error}`)
        return
      default:
    }
    if (r.valid) {
      this.out(`CHAIN VALID: ${r.label}`)
      this.out(`  Receipts:  ${r.receiptCount}`)
      this.out(`  Final seq: ${r.finalSeq}`)
      this.out(`  Root hash: ${r.rootHash}`)
      this.out(`  Start:     ${displayTime(r.startTime as string)}`)
      this.out(`  End:       ${displayTime(r.endTime as string)}`)
      return
    }
    this.out(`CHAIN BROKEN: ${r.label}`)
    this.out(`  Error:    ${r.error}`)
    if (r.brokenAtSeq !== undefined) {
      this.out(`  Broke at: seq ${r.brokenAtSeq}`)
      this.err(`chain verification failed at seq ${r.brokenAtSeq}: ${r.error}`)
    } else {
      this.err(`chain verification failed: ${r.error}`)
    }
  }

  private renderEvidence(r: EvidenceReport): void {
    if (!r.valid) {
      this.out(`FAILED: ${r.path}: ${r.error}`)
      this.err(`verification failed: ${r.error}`)
      return
    }
    this.out(`OK: ${r.path}`)
    this.out(`  Record type:  evidence_receipt_v2`)
    this.out(`  Payload kind: ${r.payloadKind}`)
    this.out(`  Event ID:     ${r.eventId}`)
    this.out(`  Timestamp:    ${displayTime(r.timestamp as string)}`)
    this.out(`  Signer key:   ${r.signerKeyId} (${r.keyPurpose})`)
    this.out(`  Chain seq:    ${r.chainSeq}`)
    this.out(`  Chain prev:   ${r.chainPrevHash === '' ? '(empty)' : r.chainPrevHash}`)
    this.out(`  Receipt hash: ${r.receiptHash}`)
  }
}
