import {describeCounts} from './evidence-count.js'
import {renderEvidenceSet} from './evidence-render.js'
import type {EvidenceSetReport} from './evidence-types.js'
import {VERDICT_BUCKETS, type AuditPacket} from './packet-schema.js'

// summary.md and verifier.txt of an audit packet: pure functions of packet.json and of the
// verification of the packet's own evidence.jsonl, named by its artifact path. `build` writes
// them and `verify` renders them again and compares byte for byte, so nothing in them may come
// from anywhere else (where the evidence was read from, the build's clock, the working directory).

/** The texts of summary.md and verifier.txt. `evidence` verified the packet's evidence.jsonl (`shownAs` its artifact path). */
export interface PacketTexts {
  summary: string
  verifier: string
}

export function renderPacketTexts(p: AuditPacket, evidence: EvidenceSetReport): PacketTexts {
  return {summary: summaryMarkdown(p, evidence), verifier: verifierText(evidence)}
}

/** What `pipelock verify-receipt evidence.jsonl` prints in the packet directory, stdout then stderr. */
function verifierText(r: EvidenceSetReport): string {
  const rendered = renderEvidenceSet(r)
  return [...rendered.stdout, ...rendered.stderr].join('\n') + '\n'
}

function summaryMarkdown(p: AuditPacket, r: EvidenceSetReport): string {
  const lines = [
    `# Audit packet ${p.packet_id ?? ''}`,
    '',
    `Verifier verdict: **${p.verifier.verdict}**${p.verifier.trusted ? ' (signer pinned)' : ' (not trusted: see below)'}`,
    p.verifier.error === undefined ? '' : `Error: ${p.verifier.error}`,
    '',
    `- Evidence: ${r.label}, ${r.entries.count} recorder entries, ${r.receiptCount} receipts`,
    `- Receipts by class: ${describeCounts(r.counts)}`,
    `- Decisions: ${p.summary.receipt_count} (${VERDICT_BUCKETS.map((b) => `${b} ${p.summary.totals[b]}`).join(', ')})`,
    `- Root hash: ${p.verifier.root_hash ?? '(none)'}`,
    `- Posture from: ${p.policy.config_path ?? 'the built-in defaults (no --config given)'}`,
    `- WebSocket frame scanning: ${p.posture.websocket_frame_scanning}`,
    `- Not enforced in this mode: ${p.posture.unsupported_paths.join(', ')}`,
    '',
    'A valid verdict proves that these receipts were signed by the pinned key and that none of the',
    'chained ones was altered, removed or reordered. It does not prove that every request went',
    'through the proxy (see the paths not enforced), nor that unchained lifecycle receipts are complete.',
    '',
  ]
  for (const w of r.warnings) lines.push(`- warning: ${w.file === undefined ? '' : `${w.file}:${w.line}: `}${w.message}`)
  return lines.join('\n') + '\n'
}
