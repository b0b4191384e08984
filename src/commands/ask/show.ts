import {Args} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {renderApproval, showApproval, type ApprovalInfo} from '../../plugins/admin-client/index.js'

export default class AskShow extends AdminCommand {
  static override summary = 'Show one held request: kind, agent, target, reason, patterns, preview, status'
  static override description = 'GET /api/v1/approvals/<id> on the admin API. Exit 1 when the id is unknown (HTTP 404) or the proxy cannot be reached; 2 for a rejected token. See docs/ask.md.'
  static override examples = [
    {description: 'One held request', command: '<%= config.bin %> ask show ask-0193a3c2-7f00-7000-8000-000000000000 --api-url 127.0.0.1:8888'},
    {description: 'As JSON', command: '<%= config.bin %> ask show ask-0193a3c2-7f00-7000-8000-000000000000 --json --api-url 127.0.0.1:8888'},
  ]
  static override enableJsonFlag = true
  static override args = {id: Args.string({description: 'approval id (see: pipelock ask list)', required: true})}
  static override flags = {...adminFlags}

  async run(): Promise<ApprovalInfo> {
    const {args, flags} = await this.parse(AskShow)
    const r = await this.withAdminClient(flags, async (c) => await showApproval(c, args.id))
    for (const l of renderApproval(r.data)) this.out(l)
    return r.json
  }
}
