import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {chainFlags, chainRequest, evidenceKeyFlags, signedCheckpointFlags} from '../cli/evidence-flags.js'
import {verifyingWork} from '../cli/verify-work.js'
import {withStdinChain} from '../cli/stdin-input.js'
import {evidenceUnkeyed, findReceipt, unusedKeyWarnings, receiptIdToActionIds, renderEvidenceSet, resolveEvidenceSource, v2SignaturesUnchecked, verifyEvidenceInput, verifyExitStatus, type EvidenceSetReport, type FoundReceipt, type VerifyEvidenceReport} from '../plugins/audit/index.js'
import {printable} from '../plugins/errors/index.js'
import {displayTime, EVIDENCE_SIGNATURE_FAILED, type EvidenceReport, type SingleReceiptReport} from '../plugins/receipts/index.js'


/** `--find ID` in the `--json` result: the receipt it names, and whether the evidence holding it verified. */
export type FindResult = {id: string; found: false} | ({id: string; found: true; verified: boolean} & FoundReceipt)

export default class VerifyReceipt extends BaseCommand {
  static override summary = 'Verify a signed receipt, a receipt chain or an evidence receipt, offline'
  static override description = `Verifies Ed25519 signatures and hash chains without network access.

Modes:
- FILE ending in .jsonl: every line of the file: the flight-recorder entry hash chain, the v1 receipt chain (action_receipt entries), the v2 evidence chain (evidence_receipt entries, or a file of bare v2 receipts such as ratification-receipts.jsonl), checkpoints and transcript roots.
- DIR or --chain DIR: the recorder files evidence-<session>-<n>.jsonl of one session in DIR (or in DIR/<session>), across rotated files and restarts.
- --session ID: the session of DIR (default proxy); with a .jsonl FILE, given, the file must hold that session's recorder entries; not with a single receipt.
- -: a chain (.jsonl) read from stdin, at most 16 MiB, named - in the output.
- any other FILE: one ActionReceipt v1, or one EvidenceReceipt v2 envelope (its signature needs a key: without one, NO KEY GIVEN and exit 3).

Key rotation: --rotation-endorsement FILE (repeatable) names an endorsement, which must match a key change of the chain. A directory's own rotation-<n>.json are used without naming them; one no key change needs (not yet in force, or its boundary expired by retention) is a warning.

Keys: --key HEX|FILE pins the v1 signer (and, alone, every v2 signer); --key ID=HEX|FILE pins the v2 signer whose signer_key_id is ID (repeatable); --roster FILE --roster-root-fingerprint FP pins a signed roster that names every key and what it may sign (an unnamed --key beside it is refused: name it, --key ID=FILE). A named key that no receipt used (a mistyped ID: beside a roster, the roster then decided that signer) is a warning on stderr. A key read from a file is named in errors by its fingerprint and path, never printed. Without a key the signer is NOT pinned: v1 receipts then prove their own integrity, not who signed them; v2 receipts need a key.

Checkpoints: entries after the last verified checkpoint signature (or all entries, when no checkpoint signature verifies) are a warning, and the chain can still be valid: nothing but the keyless entry chain shows their metadata was not rewritten. --require-signed-checkpoints makes them a failure (CHAIN BROKEN, exit 1, the line of the first entry no signature covers).

Problems that do not break the evidence (a run without session_close after a crash, a truncated last line that is not where the checkpoint after a session_close belongs, unchained lifecycle receipts) are printed as warnings on stderr.

Exit status (docs/receipts.md):
- 0: valid (v1 receipts without --key: checked against the key each carries, as the reference does)
- 1: invalid or unreadable: something is broken
- 2: usage error (wrong flags or arguments)
- 3: no key given: nothing is broken, but v2 signatures were not checked (NO KEY GIVEN; --json: valid false, so a gate on .valid does not pass it)
- 4: not verifiable by this version: a v2 receipt lists in crit an extension this version does not implement; every other check passed (NOT VERIFIABLE BY THIS VERSION)`

  static override examples = [
    {description: 'Verify one receipt, pinning the signer key', command: '<%= config.bin %> verify-receipt receipt.json --key 4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'},
    {description: 'Verify a flight-recorder chain file', command: '<%= config.bin %> verify-receipt evidence-proxy-0.jsonl --key signer.pub'},
    {description: 'Verify all recorder files of session "proxy" in a directory, as JSON', command: '<%= config.bin %> verify-receipt --chain /var/lib/pipelock/recorder --session proxy --key signer.pub --json'},
    {description: 'Verify a chain across a key rotation', command: '<%= config.bin %> verify-receipt run.jsonl --key old.pub --rotation-endorsement rotation.json'},
    {description: 'Verify a recorder directory across its key rotations (its rotation-<n>.json are found), from the original key', command: '<%= config.bin %> verify-receipt --chain /var/lib/pipelock/evidence --key old.pub'},
    {description: 'Verify the lifecycle receipts learn ratify wrote, naming the receipt key', command: '<%= config.bin %> verify-receipt ratification-receipts.jsonl --key receipt-signing=receipt-signing.pub'},
    {description: 'Verify a learn shadow recorder directory against a pinned roster', command: '<%= config.bin %> verify-receipt /srv/shadow-recorder --roster roster.json --roster-root-fingerprint sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9'},
    {description: 'Check an evidence directory, by the name the reference documents (an alias)', command: '<%= config.bin %> integrity verify /var/lib/pipelock/evidence --session proxy --key signer.pub'},
    {description: 'Verify a recorder directory and fail unless a verified checkpoint signature covers every entry', command: '<%= config.bin %> verify-receipt --chain /var/lib/pipelock/recorder --key signer.pub --require-signed-checkpoints'},
    {description: 'Verify the recorder and show the receipt a block response named (X-Pipelock-Block-Reason-Receipt)', command: '<%= config.bin %> verify-receipt --chain /var/lib/pipelock/evidence --key signer.pub --find 01JH3KQ2V8ZQ6W4N0B1C5D7E9F'},
  ]

  // policy-extra §5.2: the docs' `pipelock integrity verify <evidence-dir>` is this command.
  static override aliases = ['integrity:verify']

  static override enableJsonFlag = true

  static override args = {
    file: Args.string({description: 'receipt (.json), chain (.jsonl) or evidence receipt file', required: false}),
  }

  static override flags = {
    ...evidenceKeyFlags,
    ...chainFlags,
    ...signedCheckpointFlags,
    find: Flags.string({description: 'after verifying, show the receipt with this id: the ULID of a block response\'s X-Pipelock-Block-Reason-Receipt header, or its action_id as written; --json adds it to the result as find'}),
  }

  async run(): Promise<VerifyEvidenceReport | (VerifyEvidenceReport & {find: FindResult; error?: string})> {
    const {args, flags, metadata} = await this.parse(VerifyReceipt)
    // A --find id that names nothing is a usage error before any verification, not after it.
    if (flags.find !== undefined) receiptIdToActionIds(flags.find)
    // `-`: the chain from stdin, verified from a private copy and named `-`
    return await withStdinChain(args.file, async (file, shownAs) => await this.verify(file, shownAs, flags, metadata))
  }

  private async verify(
    file: string | undefined,
    shownAs: string | undefined,
    flags: Parameters<typeof chainRequest>[1] & {find?: string; roster?: string},
    metadata: Parameters<typeof chainRequest>[2],
  ): Promise<VerifyEvidenceReport | (VerifyEvidenceReport & {find: FindResult; error?: string})> {
    const report = await verifyingWork(this.jsonEnabled(), (onProgress) => verifyEvidenceInput({...chainRequest(file, flags, metadata), ...(shownAs === undefined ? {} : {shownAs}), onProgress}))
    if (report.kind === 'endorsement_error') {
      this.out(`CHAIN BROKEN: ${report.label}`)
      this.out(`  Error:    ${report.error}`)
      this.err(`chain verification failed: ${report.error}`)
      process.exitCode = 1
      return report
    }
    if (report.kind === 'evidence_set') this.renderSet(report)
    else if (report.kind === 'evidence_receipt_v2') this.renderEvidence(report)
    else if (report.kind === 'action_receipt_v1') this.renderSingle(report)
    const unpinned = report.kind === 'evidence_set' ? report.verdict === 'self_consistent_only' && report.evidenceReceipts.signaturesChecked : report.valid && !report.signerPinned && report.kind !== 'evidence_receipt_v2'
    if (unpinned) {
      this.err('note: signer not pinned (no --key): verified against the key embedded in the receipt; pass --key to pin the expected signer')
    }
    // a key given by name that no receipt used: the verdict rests on other keys (a mistyped id)
    for (const w of unusedKeyWarnings(report.unusedKeys, flags.roster !== undefined)) this.err(printable(w))
    process.exitCode = verifyExitStatus(report)
    if (flags.find === undefined) return report
    // --json carries the receipt found (or not) in the result: the text lines are not printed there.
    // Unchecked v2 signatures prove nothing about the receipt either: it is not shown as verified.
    const unproven = report.valid ? undefined : (report.kind === 'evidence_set' && v2SignaturesUnchecked(report)) || (report.kind === 'evidence_receipt_v2' && evidenceUnkeyed(report)) ? 'v2 signatures were not checked (no key given)' : 'the evidence did not verify'
    const find = await this.find(file, flags, flags.find, unproven, shownAs)
    // exit 1 with valid: true: the result says why (the evidence verified, the receipt is not in it)
    // (evidence that did not verify already says why, in its own fields)
    return find.found || !report.valid ? {...report, find} : {...report, find, error: `receipt ${flags.find} not found (--find)`}
  }

  /** `--find`: name the file and line of the receipt a block response pointed to. */
  private async find(file: string | undefined, flags: {chain?: string; session: string}, id: string, unproven: string | undefined, shownAs?: string): Promise<FindResult> {
    const verified = unproven === undefined
    const src = await resolveEvidenceSource(file, flags.chain, flags.session)
    const at = await findReceipt('single' in src ? [src.single] : src.files, id)
    // stdin's private copy is named as the input was: `-`
    const found = at === undefined || shownAs === undefined ? at : {...at, file: shownAs}
    if (found === undefined) {
      this.err(printable(`receipt ${id} not found`))
      process.exitCode = 1
      return {id, found: false}
    }
    // Receipt text is the agent's (an MCP tool name, a target): shown without its control characters.
    this.out(printable(`Receipt ${id}: ${found.file}:${found.line}`))
    this.out(`  Action ID:   ${printable(found.actionId)}`)
    this.out(`  Verdict:     ${printable(`${found.verdict}${found.layer !== '' ? ` (${found.layer}${found.pattern !== '' ? `, ${found.pattern}` : ''})` : ''}`)}`)
    this.out(`  Target:      ${printable(found.target)}`)
    this.out(`  Transport:   ${printable(found.transport)}`)
    if (unproven !== undefined) this.err(`note: ${unproven}: the receipt above is shown as the file holds it, not as proven`)
    return {id, found: true, verified, ...found}
  }

  private renderSet(r: EvidenceSetReport): void {
    const {stdout, stderr} = renderEvidenceSet(r)
    for (const l of stdout) this.out(l)
    for (const l of stderr) this.err(l)
  }

  private renderSingle(r: SingleReceiptReport): void {
    if (r.stage === 'parse') {
      this.out(printable(`FAILED: ${r.path}: ${r.error}`))
      this.err(printable(`parsing receipt: ${r.error}`))
      return
    }
    if (!r.valid) {
      this.out(printable(`FAILED: ${r.path}: ${r.error}`))
      this.err(printable(`verification failed: ${r.error}`))
      return
    }
    const x = r.receipt as NonNullable<SingleReceiptReport['receipt']>
    // Signed is not harmless: a target or tool name the agent chose may hold terminal escapes that
    // would rewrite the lines above it (the Verdict). The full record below is JSON-escaped.
    const p = printable
    this.out(`OK: ${r.path}`)
    this.out(`  Action ID:   ${p(x.actionId)}`)
    this.out(`  Action Type: ${p(x.actionType)}`)
    this.out(`  Verdict:     ${p(x.verdict)}`)
    this.out(`  Target:      ${p(x.target)}`)
    this.out(`  Transport:   ${p(x.transport)}`)
    this.out(`  Timestamp:   ${displayTime(x.timestamp)}`)
    this.out(`  Signer:      ${p(x.signerKey)}`)
    this.out(`  Chain seq:   ${x.chainSeq}`)
    this.out(`  Chain prev:  ${p(x.chainPrevHash)}`)
    if (x.principal !== '') this.out(`  Principal:   ${p(x.principal)}`)
    if (x.actor !== '') this.out(`  Actor:       ${p(x.actor)}`)
    if (x.policyHash !== '') this.out(`  Policy Hash: ${p(x.policyHash)}`)
    if (x.method !== '' || x.layer !== '') {
      this.out()
      this.out('  Full record:')
      this.out(`  ${r.actionRecordIndented}`)
    }
  }

  private renderEvidence(r: EvidenceReport): void {
    if (r.unsupportedCritical !== undefined) {
      this.out(printable(`NOT VERIFIABLE BY THIS VERSION: ${r.path}: ${r.error}`))
      this.err(printable(`${r.error}; a newer pipelock verifies it`))
      return
    }
    const unkeyed = evidenceUnkeyed(r)
    if (!r.valid && !unkeyed) {
      this.out(printable(`FAILED: ${r.path}: ${r.error}`))
      this.err(printable(`verification failed: ${r.error}`))
      // The verifier's text (the reference's) calls a bad signature an "invalid enum value": say what it means.
      if (r.error === EVIDENCE_SIGNATURE_FAILED) {
        this.err(printable(`note: the signature does not verify under the key given for signer ${r.signerKeyId ?? ''}: a different key signed it, or the receipt was altered after signing`))
      }
      return
    }
    if (unkeyed) {
      // Nothing is broken: a v2 receipt does not carry its key, so its signature needs one.
      this.out(printable(`NO KEY GIVEN: ${r.path}`))
      this.out('  Checked:      v2 receipt structure and authority matrix')
      this.out('  Not checked:  its signature, and who signed it (no key pinned)')
      this.err('no key given: the v2 signature was not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP')
    } else this.out(`OK: ${r.path}`)
    this.out(`  Record type:  evidence_receipt_v2`)
    this.out(`  Payload kind: ${r.payloadKind}`)
    this.out(`  Event ID:     ${printable(r.eventId ?? '')}`)
    this.out(`  Timestamp:    ${displayTime(r.timestamp as string)}`)
    this.out(`  Signer key:   ${printable(`${r.signerKeyId} (${r.keyPurpose})`)}${unkeyed ? ', as the receipt claims' : ''}`)
    this.out(`  Chain seq:    ${r.chainSeq}`)
    this.out(`  Chain prev:   ${r.chainPrevHash === '' ? '(empty)' : r.chainPrevHash}`)
    this.out(`  Receipt hash: ${r.receiptHash}`)
  }
}

