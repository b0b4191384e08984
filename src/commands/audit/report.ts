import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputFile} from '../../cli/output-file.js'
import {evidenceKeyFlags, evidenceSourceFlags, givenSession, keyRingRequest} from '../../cli/evidence-flags.js'
import {formatGoTime, fromEpochNanos, systemClock} from '../../plugins/canonical/index.js'
import {collectReportData, renderReportHtml, type EvidenceReportData} from '../../plugins/audit/index.js'

export default class AuditReport extends BaseCommand {
  static override summary = 'Write a self-contained HTML evidence report for people (offline, inline SVG)'
  static override description = `Verifies the evidence (as verify-receipt does) and writes one HTML file an auditor opens in
any browser, offline: verdict banner, decisions over time by verdict, top hosts and block
reasons, contract generations and lifecycle events, and every block with its receipt id.
--json prints the numbers the page shows. Exit status: 0 when the evidence verifies, 1 otherwise
(the report is written either way).`

  static override examples = [
    {description: 'Report on a recorder directory, pinned to the receipt key', command: '<%= config.bin %> audit report --chain /var/lib/pipelock/recorder --key receipt.pub --out report.html'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    ...evidenceSourceFlags,
    ...evidenceKeyFlags,
    out: Flags.string({description: 'HTML file to write', required: true}),
  }

  async run(): Promise<EvidenceReportData> {
    const {flags, metadata} = await this.parse(AuditReport)
    const data = await collectReportData({
      file: flags.chain,
      ...keyRingRequest(flags),
      // without a key the page still renders, with a "self-consistent only" banner
      ...givenSession(flags, metadata),
    })
    writeOutputFile(flags.out, renderReportHtml(data, formatGoTime(fromEpochNanos(systemClock.nowNanos()))), 0o644)
    this.out(`audit report: ${flags.out} (verdict ${data.verdict}, ${data.decisions} decisions, ${data.blocks.length + data.blocksOmitted} blocks)`)
    if (!data.valid) process.exitCode = 1
    return data
  }
}
