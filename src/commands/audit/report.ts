import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputFile} from '../../cli/output-file.js'
import {evidenceInputs, refuseOutputOverInputs} from '../../cli/output-over-input.js'
import {StreamedOutputFile} from '../../cli/streamed-output-file.js'
import {verifyingWork} from '../../cli/verify-work.js'
import {endorsementRequest, evidenceKeyFlags, evidenceSourceFlags, givenSession, keyRingRequest, signedCheckpointFlags, signedCheckpointRequest} from '../../cli/evidence-flags.js'
import {formatGoTime, fromEpochNanos, systemClock} from '../../plugins/canonical/index.js'
import {blocksOmittedNote, collectReportData, lifecycleOmittedNote, EXIT_NO_KEY_GIVEN, EXIT_NOT_VERIFIABLE, renderReportHtml, unusedKeyWarnings, V2_UNCHECKED_LINE, v2SignaturesUnchecked, MAX_LISTED_BLOCKS, type EvidenceReportData} from '../../plugins/audit/index.js'
import {PipelockError, printable} from '../../plugins/errors/index.js'

/** The report's file mode: the audit packet's (owner and group), never readable by others. */
const REPORT_FILE_MODE = 0o640

/** Why evidence that did not verify failed, in the verifier's words. */
function failureReason(d: EvidenceReportData): string {
  if (d.error !== undefined) return d.error
  if (d.verdict === 'empty') return `no receipts in ${d.label}`
  const nv = d.verification.notVerifiable.first
  return nv === undefined ? 'see pipelock verify-receipt for the details' : `${nv.file === undefined ? '' : `${nv.file}:${nv.line}: `}${nv.message}; a newer pipelock verifies it`
}

export default class AuditReport extends BaseCommand {
  static override summary = 'Write a self-contained HTML evidence report for people (offline, inline SVG)'
  static override description = `Verifies the evidence (as verify-receipt does) and writes one HTML file an auditor opens in any browser, offline: verdict banner, decisions over time by verdict, top hosts and block reasons, contract generations and lifecycle events, and every block with its receipt id (the page lists the first ${MAX_LISTED_BLOCKS} blocks and the first ${MAX_LISTED_BLOCKS} lifecycle events, and says how many more there are; --blocks-jsonl FILE writes every block, one JSON object per line, as the evidence streams by). --json prints the numbers the page shows. --require-signed-checkpoints fails the evidence (verdict invalid) when a recorder entry is not covered by a verified checkpoint signature, as verify-receipt. A named --key that no receipt used (a mistyped ID) is a warning on stderr and is listed in --json as unusedKeys. The file is written mode 0640 (it quotes the evidence); an existing report there is replaced, but --out and --blocks-jsonl may not name an input file (the evidence, a key, a roster, an endorsement) or a path inside the --chain directory (exit 2, nothing written). Exit status: 0 when the evidence verifies (v1 receipts without a key: against the key each carries, as verify-receipt), 1 when it does not, 3 when it holds v2 receipts and no key was given (their signatures were not checked: NO KEY GIVEN, as verify-receipt), 4 when a v2 receipt lists in crit an extension this version does not implement (NOT VERIFIABLE BY THIS VERSION, as verify-receipt). The report is written either way, and stderr says why the evidence did not verify or which flags to pass.`

  static override examples = [
    {description: 'Report on a recorder directory, pinned to the receipt key', command: '<%= config.bin %> audit report --chain /var/lib/pipelock/recorder --key receipt.pub --out report.html'},
    {description: 'Report on a recorder directory, and list every block (however many) in a JSON Lines file', command: '<%= config.bin %> audit report --chain /var/lib/pipelock/recorder --key receipt.pub --out report.html --blocks-jsonl blocks.jsonl'},
    {description: 'Report on a recorder file across a receipt key rotation, pinned to the original key', command: '<%= config.bin %> audit report --chain evidence-proxy-0.jsonl --key old.pub --rotation-endorsement rotation-1.json --out report.html'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    ...evidenceSourceFlags,
    ...evidenceKeyFlags,
    ...signedCheckpointFlags,
    out: Flags.string({description: 'HTML file to write (replaced if it exists; never an input file or inside the --chain directory)', required: true}),
    'blocks-jsonl': Flags.string({description: 'also write every block to this file, one JSON object per line (id, timestamp, target, transport, reason, file, line): the page lists at most the first ' + MAX_LISTED_BLOCKS}),
  }

  async run(): Promise<EvidenceReportData> {
    const {flags, metadata} = await this.parse(AuditReport)
    const blocksFile = flags['blocks-jsonl']
    if (blocksFile !== undefined && path.resolve(blocksFile) === path.resolve(flags.out)) {
      throw new PipelockError('USAGE', `--blocks-jsonl and --out both name ${blocksFile}`, {hint: 'name two different files'})
    }
    // The report must not be written over the evidence it reports on (nor into its directory):
    // refused before anything is read or written.
    refuseOutputOverInputs([{flag: '--out', path: flags.out}, ...(blocksFile === undefined ? [] : [{flag: '--blocks-jsonl', path: blocksFile}])], evidenceInputs(flags))
    if (blocksFile !== undefined) refuseOutputOverInputs([{flag: '--blocks-jsonl', path: blocksFile}], [{flag: '--out', path: flags.out}])
    // Which receipts are the counted decisions (v1, or v2 proxy_decisions when there is no v1) is
    // known only at the end: each kind streams to its own temp file, and the right one is kept.
    const lists = blocksFile === undefined ? undefined : {decision: new StreamedOutputFile(blocksFile, REPORT_FILE_MODE), contract_decision: new StreamedOutputFile(blocksFile, REPORT_FILE_MODE)}
    let data: EvidenceReportData
    try {
      data = await verifyingWork(this.jsonEnabled(), (onProgress) => collectReportData({
        file: flags.chain,
        ...keyRingRequest(flags),
        // without a key the page still renders, with a "self-consistent only" or "no key given" banner
        ...givenSession(flags, metadata),
        ...endorsementRequest(flags),
        ...signedCheckpointRequest(flags),
        onProgress,
        ...(lists === undefined ? {} : {onBlock: (b, cls) => lists[cls].writeLine(JSON.stringify(b))}),
      }))
      if (lists !== undefined) {
        const [kept, dropped] = data.verification.counts.decisionSource === 'proxy_decision_receipts' ? [lists.contract_decision, lists.decision] : [lists.decision, lists.contract_decision]
        dropped.discard()
        kept.commit()
        data.blocksFile = blocksFile
      }
    } finally {
      lists?.decision.discard()
      lists?.contract_decision.discard()
    }
    // The page quotes the evidence (targets, hosts, block reasons), which the recorder keeps 0600: not for every local user.
    writeOutputFile(flags.out, renderReportHtml(data, formatGoTime(fromEpochNanos(systemClock.nowNanos()))), REPORT_FILE_MODE)
    this.out(`audit report: ${flags.out} (verdict ${data.verdict}, ${data.decisions} decisions, ${data.blocks.length + data.blocksOmitted} blocks${blocksFile === undefined ? '' : `, every one in ${blocksFile}`})`)
    // the page is capped; say where the rest are rather than let a short list pass for all of them
    if (data.blocksOmitted > 0) this.err(printable(`audit report: ${blocksOmittedNote(data)}`))
    if (data.lifecycleOmitted > 0) this.err(printable(`audit report: ${lifecycleOmittedNote(data)}`))
    // a key given by name that no receipt used: the verdict rests on other keys (a mistyped id)
    for (const w of unusedKeyWarnings(data.unusedKeys, flags.roster !== undefined)) this.err(printable(w))
    if (v2SignaturesUnchecked(data.verification)) {
      // nothing is broken, but v2 receipts without their key prove nothing: not a pass
      this.err(`audit report: ${V2_UNCHECKED_LINE}`)
      process.exitCode = EXIT_NO_KEY_GIVEN
    } else if (!data.valid) {
      // the report is written (its banner shows the failure), but the exit status alone does not say why
      this.err(printable(`audit report: the evidence did not verify (verdict ${data.verdict}): ${failureReason(data)}`))
      // not broken, but not a pass either: some receipts need a newer pipelock (verify-receipt's 4)
      process.exitCode = data.verdict === 'not_verifiable' ? EXIT_NOT_VERIFIABLE : 1
    }
    return data
  }
}
