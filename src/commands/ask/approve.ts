import {Args, Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {answerApproval, renderAnswer, type ApprovalAnswer} from '../../plugins/admin-client/index.js'

export default class AskApprove extends AdminCommand {
  static override summary = 'Allow a held request (or, with --strip, forward a held response without its flagged content)'
  static override description = `POST /api/v1/approvals/<id> {"decision":"allow"|"strip"} on the admin API. Prints "approved <id> (allow|strip)". The request continues; its receipt names the approval and who answered. Exit 1 when the id is unknown (404), already answered or expired (409), or strip is not offered for it (400); 2 for a rejected token. See docs/ask.md.`
  static override examples = [
    {description: 'Allow a held request', command: '<%= config.bin %> ask approve ask-0193a3c2-7f00-7000-8000-000000000000 --by alice --reason "expected deploy" --api-url 127.0.0.1:8888'},
    {description: 'Forward a held response with the injection stripped', command: '<%= config.bin %> ask approve ask-0193a3c2-7f00-7000-8000-000000000000 --strip --api-url 127.0.0.1:8888'},
  ]
  static override enableJsonFlag = true
  static override args = {id: Args.string({description: 'approval id (see: pipelock ask list)', required: true})}
  static override flags = {
    ...adminFlags,
    strip: Flags.boolean({description: 'forward the response without the flagged content (response asks only)', default: false}),
    by: Flags.string({description: 'who answers (recorded in the receipt and the audit log); default: admin-api'}),
    reason: Flags.string({description: 'why (recorded in the audit log)'}),
  }

  async run(): Promise<ApprovalAnswer> {
    const {args, flags} = await this.parse(AskApprove)
    const decision = flags.strip ? 'strip' : 'allow'
    const r = await this.withAdminClient(flags, async (c) => await answerApproval(c, args.id, decision, flags.by ?? '', flags.reason ?? ''))
    this.out(renderAnswer(r.data, decision))
    return r.json
  }
}
