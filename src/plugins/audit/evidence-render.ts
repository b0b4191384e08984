import type {EvidenceFailure, EvidenceSetReport} from './evidence-types.js'
import {printable} from '../errors/index.js'
import {displayTime} from '../receipts/index.js'
import {describeCounts} from './evidence-count.js'

// Human output of an evidence-set verification (docs/receipts.md). A file or directory that
// holds only v1 receipts prints exactly the reference's CHAIN VALID / CHAIN BROKEN block
// (receipts.md §11.1), a break followed by its file and line; anything else adds one line per
// chain it checked.

/**
 * What every command that verifies evidence says on stderr when v2 signatures went unchecked (no
 * key given): verify-receipt as it is, audit packet and audit report after their own name.
 */
export const V2_UNCHECKED_LINE = 'no key given: v2 signatures not checked; pass --key HEX|FILE, --key ID=HEX|FILE or --roster FILE --roster-root-fingerprint FP'

/**
 * A failure in one line, `FILE:LINE: message`, as warnings are written: what audit report, audit
 * packet build and audit packet verify say of evidence that did not verify. A line that cannot be
 * read names its file and line in its message already; a failure of a whole file has no line.
 */
export function failureText(f: EvidenceFailure): string {
  return `${f.file === undefined || f.line === undefined || f.extraction !== undefined ? '' : `${f.file}:${f.line}: `}${f.message}`
}

export function renderEvidenceSet(r: EvidenceSetReport): {stdout: string[]; stderr: string[]} {
  const out: string[] = []
  const err: string[] = []
  const f = r.failure
  if (r.verdict === 'empty' && f === undefined) {
    out.push(`No receipts found in ${r.label}`)
    err.push(r.entries.count > 0 ? `no receipts in ${r.label} (${r.entries.count} recorder entries, none a receipt)` : `no receipts in ${r.label}`)
    const nf = r.noRecorderFiles
    if (nf !== undefined) {
      // The directory holds no file of the session's name pattern: say what was looked for.
      const others = nf.otherJsonl.length === 0 ? '' : `; it holds other .jsonl files (${nf.otherJsonl.join(', ')}): verify one as FILE, or pass --session ID if they are another session's recorder files`
      err.push(`note: looked for recorder files named ${nf.pattern} (n the first entry seq) in ${nf.dirs.join(' and ')}, and found none${others}`)
    }
    return {stdout: out.map(printable), stderr: err.map(printable)}
  }
  // Only v1 receipts: the reference's block, byte for byte (a break adds its Line after it).
  const v1Only = r.evidenceReceipts.count === 0
  if (f?.extraction !== undefined) {
    // A line that cannot be read aborts extraction (receipts.md §11.1): broken, said on stdout as
    // every other break is (pyverify's form; Go prints stderr only), and on stderr in Go's words.
    // The message names the file and line itself (`FILE: line N: …`).
    out.push(`CHAIN BROKEN: ${r.label}`)
    out.push(`  Error:    ${f.message}`)
    out.push(`  Line:     ${f.file}:${f.line}`)
    err.push(f.extraction === 'entry' ? `extracting receipts: reading entries: ${f.message}` : `extracting receipts: ${f.message}`)
  } else if (f !== undefined) {
    out.push(`CHAIN BROKEN: ${r.label}`)
    out.push(`  Error:    ${f.message}`)
    if (f.brokenAtSeq !== undefined) out.push(`  Broke at: seq ${f.brokenAtSeq}`)
    // After the reference's lines: the file and line, so a long chain need not be searched for seq N.
    if (f.file !== undefined) out.push(`  Line:     ${f.file}:${f.line}`)
    const where = f.brokenAtSeq !== undefined ? ` at seq ${f.brokenAtSeq}` : f.file !== undefined ? ` at ${f.file}:${f.line}` : ''
    err.push(`chain verification failed${where}: ${f.message}`)
    // The verifier's text (the reference's) calls a bad v2 signature an "invalid enum value": say what it means.
    if (f.signatureMismatch !== undefined) {
      err.push(`note: the signature does not verify under the key given for signer ${f.signatureMismatch.signerKeyId}: a different key signed it, or the receipt was altered after signing`)
    }
  } else {
    const a = r.actionReceipts
    const e = r.evidenceReceipts
    const nv = r.notVerifiable
    if (r.verdict === 'not_verifiable') {
      // Nothing is broken: some receipts need an extension this version does not implement.
      out.push(`CHAIN NOT VERIFIABLE BY THIS VERSION: ${r.label}`)
      out.push(`  Not verified: ${nv.count} v2 receipt${nv.count === 1 ? '' : 's'} with an unknown critical extension (${nv.extensions.map((x) => JSON.stringify(x)).join(', ')}); first ${nv.first?.file}:${nv.first?.line}`)
      out.push('  Verified:     every other check, and the chain links through those receipts')
      if (!e.signaturesChecked) out.push(`  Not checked:  the signatures of ${e.count} v2 receipt${e.count === 1 ? '' : 's'} (no key given)`)
      err.push(`not verifiable by this version: ${nv.first?.file}:${nv.first?.line}: ${nv.first?.message ?? ''}; a newer pipelock verifies it`)
    } else if (!e.signaturesChecked) {
      // No key given: say what was checked and what was not — nothing here is broken.
      out.push(`NO KEY GIVEN: ${r.label}`)
      out.push(`  Checked:      ${[r.entries.count > 0 ? 'the entry hash chain' : '', a.count > 0 ? 'v1 receipts against the key each carries' : '', 'v2 receipt structure, authority matrix and chain links'].filter((x) => x !== '').join('; ')}`)
      out.push(`  Not checked:  the signatures of ${e.count} v2 receipt${e.count === 1 ? '' : 's'}, and who signed anything (no key pinned)`)
      err.push(V2_UNCHECKED_LINE)
    } else {
      out.push(`CHAIN VALID: ${r.label}`)
    }
    if (v1Only) {
      out.push(`  Receipts:  ${a.count}`)
      out.push(`  Final seq: ${a.finalSeq}`)
      out.push(`  Root hash: ${a.rootHash}`)
      out.push(`  Start:     ${displayTime(a.startTime as string)}`)
      out.push(`  End:       ${displayTime(a.endTime as string)}`)
    } else {
      if (r.entries.count > 0) {
        out.push(`  Entries:     ${r.entries.count} in ${r.files.length} file${r.files.length === 1 ? '' : 's'}, hash chain intact; ${r.entries.checkpoints} checkpoints (${r.entries.signedCheckpoints} signed), ${r.entries.transcriptRoots} transcript roots`)
      }
      if (a.count > 0) out.push(`  v1 receipts: ${a.count}, final seq ${a.finalSeq}, root ${a.rootHash}`)
      if (e.count > 0) {
        const parts = [`${e.count}`]
        if (e.chained > 0) parts.push(`${e.chained} in ${e.chains} chain${e.chains === 1 ? '' : 's'}, final seq ${e.finalSeq}, root ${e.rootHash}`)
        if (e.unchained > 0) parts.push(`${e.unchained} unchained`)
        out.push(`  v2 receipts: ${parts.join('; ')}${e.signaturesChecked ? '' : ' (signatures NOT checked: no key)'}`)
      }
      const kinds = Object.entries(r.counts.byPayloadKind)
      if (kinds.length > 0) out.push(`  v2 kinds:    ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`)
      // the one definition of what is counted (evidence-count.ts), as audit report and packet show it
      // (a file of one kind, e.g. ratification receipts, is told by the lines above)
      if (Object.values(r.counts.byClass).filter((n) => n > 0).length > 1) out.push(`  Receipts:    ${r.counts.receipts} (${describeCounts(r.counts)})`)
      const verdicts = Object.entries(r.counts.byVerdict)
      if (verdicts.length > 0) out.push(`  Decisions:   ${r.counts.decisions} (${verdicts.map(([k, n]) => `${k} ${n}`).join(', ')})`)
      const start = earliest(a.startTime, e.startTime)
      const end = latest(a.endTime, e.endTime)
      if (start !== undefined) out.push(`  Start:       ${displayTime(start)}`)
      if (end !== undefined) out.push(`  End:         ${displayTime(end)}`)
    }
  }
  for (const w of r.warnings) err.push(`warning: ${w.file === undefined ? '' : `${w.file}:${w.line}: `}${w.message}`)
  // Messages quote the evidence (a run nonce, a file name): no control character reaches the terminal.
  return {stdout: out.map(printable), stderr: err.map(printable)}
}

// RFC 3339 UTC timestamps as written by Go compare in time order as strings only when their
// fractions have equal length; compare the instants instead.
function instant(ts: string): number {
  return Date.parse(ts)
}

function earliest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return instant(b) < instant(a) ? b : a
}

function latest(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b
  if (b === undefined) return a
  return instant(b) > instant(a) ? b : a
}
