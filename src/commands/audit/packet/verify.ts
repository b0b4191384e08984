import {Args} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {evidenceKeyFlags, keyRingRequest, rotationEndorsementFlags, signedCheckpointFlags, signedCheckpointRequest} from '../../../cli/evidence-flags.js'
import {verifyingWork} from '../../../cli/verify-work.js'
import {EXIT_NO_KEY_GIVEN, EXIT_NOT_VERIFIABLE, unusedKeyWarnings, V2_UNCHECKED_LINE, verifyAuditPacket, type PacketVerifyResult} from '../../../plugins/audit/index.js'
import {printable} from '../../../plugins/errors/index.js'

const CHECK_STATUS = {passed: 'passed ', failed: 'FAILED ', not_run: 'not run'} as const

export default class AuditPacketVerify extends BaseCommand {
  static override summary = 'Verify an audit packet: every file in it, and that its evidence still gives the recorded verdict'
  static override description = `Proves the whole directory audit packet build wrote, one check after another:
- schema: packet.json has the Audit Packet v0 shape and the format's invariants (all eight verdict buckets summing to the total, verdict/trust rules, sorted unique lists, artifact paths inside the directory).
- files: the directory holds packet.json, summary.md, evidence.jsonl and verifier.txt, each a regular file, and nothing else (no other file, subdirectory or symbolic link).
- evidence: evidence.jsonl verifies again with the recorded verdict, receipt count and root hash, and every field build derived from it is recomputed (summary, policy.policy_hashes, run.started_at/completed_at, verifier.final_seq, a hex verifier.signer_key).
- evidence_whole: evidence.jsonl ends with a whole line and its SHA-256 gives packet_id (ap- and its first 16 hex digits): no line was cut off or added.
- summary: summary.md is what build renders from packet.json and evidence.jsonl.
- verifier_output: verifier.txt is what build renders from evidence.jsonl.
The verdict lists every check as passed, FAILED or not run; a differing file is named with its first differing line. packet.json is not signed: to know it is the packet you were given, compare its packet_id with one recorded elsewhere. Keys: --key/--roster when given, else the hex signer_key the packet records (a note on stderr then says that the signer was not pinned: the packet names its own key). A packet built without a key (verdict self_consistent_only) passes with a key when evidence.jsonl verifies as valid under it, with a note that the key given pins the signer now; a key that did not sign it fails; verified without a key too, it passes with a note that the signer is not pinned (--json: signerPinned false) when its evidence holds v1 receipts only; with v2 receipts it prints NO KEY GIVEN and exits 3 (--json: valid false, signaturesChecked false), since their signatures cannot be checked without a key. Rotations: a packet over evidence that changes receipt key holds no endorsement (its four files are fixed); pass the ones it was built with, --rotation-endorsement FILE (repeatable). --require-signed-checkpoints holds evidence.jsonl to more than build did, as verify-receipt: a recorder entry no verified checkpoint signature covers fails the evidence check. When evidence.jsonl no longer verifies as recorded, the problem names where it broke, evidence.jsonl:LINE (the first entry no signature covers, with the flag), as verify-receipt's Line: (--json: recomputed.failure, with file and line). A packet whose recorded verdict is invalid, error or not_run is never valid: it prints PACKET RECORDS FAILED EVIDENCE and the verifier's error first. Exit status: 0 when every check passed and the verdict is valid or self_consistent_only (v2 signatures checked), 1 otherwise (one line per problem), 3 when every check passed but v2 signatures were not checked (no key given), 4 when the only problem is the recorded verdict error of evidence this version cannot verify (a v2 receipt lists in crit an extension it does not implement; a newer pipelock verifies it), as verify-receipt.`

  static override examples = [
    {description: 'Verify a packet directory', command: '<%= config.bin %> audit packet verify ./packet --key receipt.pub'},
    {description: 'Verify a packet built over a receipt key rotation, with the endorsement it was built with', command: '<%= config.bin %> audit packet verify ./packet --key old.pub --rotation-endorsement /var/lib/pipelock/recorder/rotation-1.json'},
  ]

  static override enableJsonFlag = true

  static override args = {dir: Args.string({description: 'packet directory (holds packet.json)', required: true})}

  static override flags = {
    ...evidenceKeyFlags,
    ...rotationEndorsementFlags,
    ...signedCheckpointFlags,
  }

  async run(): Promise<PacketVerifyResult> {
    const {args, flags} = await this.parse(AuditPacketVerify)
    const r = await verifyingWork(this.jsonEnabled(), (onProgress) => verifyAuditPacket(args.dir, keyRingRequest(flags), flags['rotation-endorsement'] ?? [], onProgress, signedCheckpointRequest(flags)))
    if (r.valid) {
      this.out(`PACKET VALID: ${args.dir} (verdict ${r.recorded?.verdict}, ${r.recomputed?.receiptCount ?? 0} receipts)`)
      // The recorded verdict is build's (no key); the key given proved more, and says so.
      if (r.pinnedNow !== undefined) this.out(`  note: the packet was built without a key (it records "${r.recorded?.verdict}"); evidence.jsonl verifies as "valid" under the key given, which pins its signer now`)
      // Built without a key and checked without one: nothing anywhere names the signer.
      if (r.keySource === 'none') this.out('  note: signer not pinned: the packet was built without a key and none was given, so its evidence is only self-consistent, not proven to come from any signer; pass --key or --roster to prove who signed it')
      // A key the packet names vouches for nothing: whoever wrote the packet chose it.
      if (r.keySource === 'packet') this.err('note: signer not pinned (no --key or --roster): evidence.jsonl was verified against the signer_key packet.json records; pass --key to pin the expected signer')
    } else if (r.problems.length === 0 && r.signaturesChecked === false) {
      // Every check passed, but v2 receipts without their key prove nothing: not VALID, not broken.
      this.out(`NO KEY GIVEN: ${args.dir} (verdict ${r.recorded?.verdict}, ${r.recomputed?.receiptCount ?? 0} receipts)`)
      this.out('  Not checked:  the signatures of the v2 receipts in evidence.jsonl, and who signed anything (no key given, none recorded)')
      this.err(`audit packet verify: ${V2_UNCHECKED_LINE}`)
      process.exitCode = EXIT_NO_KEY_GIVEN
    } else {
      // a well-formed packet of evidence that did not verify is named for what it is, not "invalid"
      this.out(r.evidenceFailure === undefined ? `PACKET INVALID: ${args.dir}` : `PACKET RECORDS FAILED EVIDENCE: ${args.dir} (verdict ${r.evidenceFailure.verdict}, ${r.recomputed?.receiptCount ?? r.recorded?.receiptCount ?? 0} receipts)`)
      // problems quote evidence.jsonl and packet.json: no control character reaches the terminal
      for (const p of r.problems) this.out(`  ${printable(p)}`)
      // The recorded failure is the only problem and it is receipts a newer pipelock verifies:
      // not broken, the status verify-receipt gives the same evidence.
      process.exitCode = r.notVerifiable === true && r.evidenceFailure !== undefined && r.problems.length === 1 ? EXIT_NOT_VERIFIABLE : 1
    }
    // a key given by name that no receipt used: the verdict rests on other keys (a mistyped id)
    for (const w of unusedKeyWarnings(r.unusedKeys, flags.roster !== undefined)) this.err(printable(w))
    // what the verdict rests on: every check, passed, failed or not run
    this.out('checks:')
    for (const c of r.checks) this.out(`  ${CHECK_STATUS[c.status]} ${c.check}: ${c.covers}${c.reason === undefined ? '' : ` (${printable(c.reason)})`}`)
    return r
  }
}
