import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {listApprovals, renderApprovalList, type ApprovalList} from '../../plugins/admin-client/index.js'

export default class AskList extends AdminCommand {
  static override summary = 'List the requests held for an operator (action: ask) on a running pipelock'
  static override description = `GET /api/v1/approvals on the admin API. Prints a table ID AGE KIND AGENT TARGET REASON (oldest first), or "No pending approvals." With --all, the recently answered ones follow, with a STATUS column (allowed, denied, stripped, expired, cancelled). Exit 1 when the proxy holds nothing (no response_scanning.action: ask at start, HTTP 409) or cannot be reached; 2 for a rejected token. See docs/ask.md.`
  static override examples = [
    {description: 'The requests waiting for an answer', command: '<%= config.bin %> ask list --api-url 127.0.0.1:8888'},
    {description: 'With the answered ones, as JSON', command: '<%= config.bin %> ask list --all --json --api-url 127.0.0.1:8888'},
  ]
  static override enableJsonFlag = true
  static override flags = {...adminFlags, all: Flags.boolean({description: 'also list the recently answered requests', default: false})}

  async run(): Promise<ApprovalList> {
    const {flags} = await this.parse(AskList)
    const r = await this.withAdminClient(flags, async (c) => await listApprovals(c, flags.all))
    const nowMs = Number(this.nowNs() / 1_000_000n)
    for (const l of renderApprovalList(r.data, nowMs, flags.all)) this.out(l)
    return r.json
  }
}
