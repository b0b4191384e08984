import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {systemClock} from '../../../plugins/canonical/index.js'
import {buildAuditPacket, type PacketBuildResult} from '../../../plugins/audit/index.js'

export default class AuditPacketBuild extends BaseCommand {
  static override summary = 'Build an audit packet (packet.json, summary.md, evidence.jsonl, verifier.txt) from verified evidence'
  static override description = `Verifies the evidence with pipelock's verifier and writes an Audit Packet v0 directory:
packet.json (schema pipelock.audit_packet.v0), summary.md, evidence.jsonl (the verified files,
byte for byte, in chain order) and verifier.txt (the verifier's output).

The verdict is "valid" only with a pinned key; without one it is "self_consistent_only".
Posture comes from --config (the config the proxy ran with) or, without it, the built-in
defaults; what pipelock cannot observe about the host is recorded as "unknown".`

  static override examples = [
    {description: 'Packet for a recorder directory, pinned to the receipt key', command: '<%= config.bin %> audit packet build --chain /var/lib/pipelock/recorder --key receipt.pub --config pipelock.yaml --out ./packet'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    chain: Flags.string({description: 'evidence: a .jsonl file or a recorder directory', required: true}),
    key: Flags.string({description: 'trusted signer key (file or hex); ID=KEY for a v2 signer_key_id (repeatable)', multiple: true, multipleNonGreedy: true}),
    roster: Flags.string({description: 'signed key roster; needs --roster-root-fingerprint'}),
    'roster-root-fingerprint': Flags.string({description: 'pinned sha256:<hex> fingerprint of the roster root key'}),
    session: Flags.string({description: 'recorder session id', default: 'proxy'}),
    config: Flags.string({description: 'the pipelock config the evidence was produced under (posture fields)'}),
    out: Flags.string({description: 'output directory (must not hold a packet.json)', required: true}),
    provider: Flags.string({description: 'where the run executed', options: ['local', 'self_hosted', 'github_actions'], default: 'local'}),
    'agent-identity': Flags.string({description: 'identity of the agent the evidence is about', default: 'unspecified'}),
  }

  async run(): Promise<PacketBuildResult['packet']> {
    const {flags} = await this.parse(AuditPacketBuild)
    const r = await buildAuditPacket({
      file: flags.chain,
      keys: flags.key,
      roster: flags.roster,
      rosterRootFingerprint: flags['roster-root-fingerprint'],
      session: flags.session,
      config: flags.config,
      out: flags.out,
      provider: flags.provider as 'local',
      agentIdentity: flags['agent-identity'],
      clock: systemClock,
      platform: process.platform,
      arch: process.arch,
    })
    this.out(`audit packet: ${r.dir} (verifier verdict ${r.packet.verifier.verdict}, ${r.packet.summary.receipt_count} decisions)`)
    return r.packet
  }
}
