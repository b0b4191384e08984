import {Args, Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {answerApproval, renderAnswer, type ApprovalAnswer} from '../../plugins/admin-client/index.js'

export default class AskDeny extends AdminCommand {
  static override summary = 'Deny a held request: the client gets the block answer'
  static override description = `POST /api/v1/approvals/<id> {"decision":"deny"} on the admin API. Prints "denied <id>". Exit 1 when the id is unknown (404) or already answered or expired (409); 2 for a rejected token. See docs/ask.md.`
  static override examples = [
    {description: 'Deny a held request', command: '<%= config.bin %> ask deny ask-0193a3c2-7f00-7000-8000-000000000000 --by alice --reason "not expected" --api-url 127.0.0.1:8888'},
    {description: 'As JSON', command: '<%= config.bin %> ask deny ask-0193a3c2-7f00-7000-8000-000000000000 --json --api-url 127.0.0.1:8888'},
  ]
  static override enableJsonFlag = true
  static override args = {id: Args.string({description: 'approval id (see: pipelock ask list)', required: true})}
  static override flags = {
    ...adminFlags,
    by: Flags.string({description: 'who answers (recorded in the receipt and the audit log); default: admin-api'}),
    reason: Flags.string({description: 'why (recorded in the audit log)'}),
  }

  async run(): Promise<ApprovalAnswer> {
    const {args, flags} = await this.parse(AskDeny)
    const r = await this.withAdminClient(flags, async (c) => await answerApproval(c, args.id, 'deny', flags.by ?? '', flags.reason ?? ''))
    this.out(renderAnswer(r.data, 'deny'))
    return r.json
  }
}
