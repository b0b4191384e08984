import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {endorsementRequest, evidenceKeyFlags, evidenceSourceFlags, givenSession, keyRingRequest} from '../../../cli/evidence-flags.js'
import {verifyingWork} from '../../../cli/verify-work.js'
import {evidenceInputs, refuseOutputOverInputs} from '../../../cli/output-over-input.js'
import {systemClock} from '../../../plugins/canonical/index.js'
import {buildAuditPacket, failureText, PACKET_ARTIFACTS, EXIT_NO_KEY_GIVEN, EXIT_NOT_VERIFIABLE, unusedKeyWarnings, V2_UNCHECKED_LINE, v2SignaturesUnchecked, type PacketBuildResult} from '../../../plugins/audit/index.js'
import {printable} from '../../../plugins/errors/index.js'

export default class AuditPacketBuild extends BaseCommand {
  static override summary = 'Build an audit packet (packet.json, summary.md, evidence.jsonl, verifier.txt) from verified evidence'
  static override description = `Verifies the evidence with pipelock's verifier and writes an Audit Packet v0 directory:
packet.json (schema pipelock.audit_packet.v0), summary.md, evidence.jsonl (the verified files, byte for byte, in chain order, whole lines only: the torn last line of a crashed recorder, which the verifier ignores, is not copied) and verifier.txt (the verifier's output on evidence.jsonl). summary.md and verifier.txt describe evidence.jsonl as it lies in the packet, so that audit packet verify can render them again; packet_id is the SHA-256 of evidence.jsonl.

The verdict is "valid" only with a pinned key; without one it is "self_consistent_only" (v2 receipts need a key: without one their signatures are not checked). Across a receipt key rotation: a recorder directory's rotation-<n>.json are used as found,
--rotation-endorsement names others. The packet cannot hold them (its four files are fixed):
verifier.txt is what verify-receipt evidence.jsonl --rotation-endorsement FILE prints, and audit packet verify needs the same files. Posture comes from --config (the config the proxy ran with) or, without it, the built-in defaults; what pipelock cannot observe about the host is recorded as "unknown". Exit status: 0 when the verdict is valid, or self_consistent_only over v1 receipts only (each checked against the key it carries); 1 when it is invalid or error (the packet is written either way and records the verifier's error; the reason is on stderr); 3 when the evidence holds v2 receipts and no key was given (self_consistent_only, but their signatures were not checked: stderr says which flags to pass); 4 when a v2 receipt lists in crit an extension this version does not implement (the packet records verdict error; every other check passed: a newer pipelock verifies it), as verify-receipt.`

  static override examples = [
    {description: 'Packet for a recorder directory, pinned to the receipt key', command: '<%= config.bin %> audit packet build --chain /var/lib/pipelock/recorder --key receipt.pub --config pipelock.yaml --out ./packet'},
    {description: 'Packet for a recorder file that spans a receipt key rotation, pinned to the original key', command: '<%= config.bin %> audit packet build --chain evidence-proxy-0.jsonl --key old.pub --rotation-endorsement rotation-1.json --out ./packet'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    ...evidenceSourceFlags,
    ...evidenceKeyFlags,
    config: Flags.string({description: 'the pipelock config the evidence was produced under (posture fields)'}),
    out: Flags.string({description: 'output directory, new or empty (it must not be, or lie inside, the --chain directory)', required: true}),
    provider: Flags.string({description: 'where the run executed', options: ['local', 'self_hosted', 'github_actions'], default: 'local'}),
    'agent-identity': Flags.string({description: 'identity of the agent the evidence is about', default: 'unspecified'}),
  }

  async run(): Promise<PacketBuildResult['packet']> {
    const {flags, metadata} = await this.parse(AuditPacketBuild)
    // The packet is not built into the evidence directory it verifies, nor over an input file.
    refuseOutputOverInputs([{flag: '--out', path: flags.out}, ...[...Object.values(PACKET_ARTIFACTS), '.packet-build'].map((f) => ({flag: '--out', path: path.join(flags.out, f)}))], evidenceInputs(flags))
    const r = await verifyingWork(this.jsonEnabled(), (onProgress) => buildAuditPacket({
      file: flags.chain,
      named: '--chain',
      ...keyRingRequest(flags),
      ...givenSession(flags, metadata),
      ...endorsementRequest(flags),
      config: flags.config,
      out: flags.out,
      provider: flags.provider as 'local',
      agentIdentity: flags['agent-identity'],
      clock: systemClock,
      platform: process.platform,
      arch: process.arch,
      onProgress,
    }))
    this.out(`audit packet: ${r.dir} (verifier verdict ${r.packet.verifier.verdict}, ${r.packet.summary.receipt_count} decisions)`)
    // a key given by name that no receipt used: the verdict rests on other keys (a mistyped id)
    for (const w of unusedKeyWarnings(r.verification.unusedKeys, flags.roster !== undefined)) this.err(printable(w))
    const v = r.packet.verifier
    if (r.verification.verdict === 'not_verifiable') {
      // Nothing is broken, but some receipts need a newer pipelock: verify-receipt's status, not 1.
      this.err(`audit packet build: the evidence is not verifiable by this version (verdict ${v.verdict}): ${printable(v.error ?? '')}`)
      process.exitCode = EXIT_NOT_VERIFIABLE
    } else if (v.verdict !== 'valid' && v.verdict !== 'self_consistent_only') {
      // the packet is written (it records the failure), but missing or forged evidence is no pass;
      // where it broke is named in the input (the packet's evidence.jsonl holds the same lines)
      const f = r.verification.failure
      this.err(`audit packet build: the evidence did not verify (verdict ${v.verdict}): ${printable(f === undefined ? (v.error ?? '') : failureText(f))}`)
      process.exitCode = 1
    } else if (v2SignaturesUnchecked(r.verification)) {
      // Written, and self-consistent, but a v2 receipt without its key proves nothing: no pass.
      this.err(`audit packet build: ${V2_UNCHECKED_LINE}`)
      process.exitCode = EXIT_NO_KEY_GIVEN
    }
    return r.packet
  }
}
