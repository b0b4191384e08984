import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {answerApproval, listApprovals, promptAskDecision, renderAnswer, renderApproval, renderApprovalList} from '../../plugins/admin-client/index.js'

interface ReviewResult {
  readonly answered: {id: string; decision: string}[]
  readonly pending: number
}

/**
 * Whether review shows the menu: only with both stdin and stdout on a terminal, and neither
 * --no-prompt nor --json (the description says exactly this; keep them together).
 */
export function reviewPrompts(o: {noPrompt: boolean; json: boolean; stdinTty: boolean; stdoutTty: boolean}): boolean {
  return !o.noPrompt && !o.json && o.stdinTty && o.stdoutTty
}

export default class AskReview extends AdminCommand {
  static override summary = 'Walk the held requests on a terminal and answer each: allow, strip, deny or skip'
  static override description = `Lists the pending approvals, then for each prints it (as ask show) and asks "Answer this request:" with a numbered menu. It asks only when both stdin and stdout are terminals: with --no-prompt or --json, or when either is not a terminal (CI, a pipe, output redirected to a file), nothing is answered: the list is printed and "no answer given; N request(s) left pending". An answer the proxy refuses (already answered, expired) is reported and the walk goes on. See docs/ask.md.`
  static override examples = [
    {description: 'Answer the held requests interactively', command: '<%= config.bin %> ask review --by alice --api-url 127.0.0.1:8888'},
    {description: 'Report only, never prompt', command: '<%= config.bin %> ask review --no-prompt --api-url 127.0.0.1:8888'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...adminFlags,
    by: Flags.string({description: 'who answers (recorded in the receipt and the audit log); default: admin-api'}),
    'no-prompt': Flags.boolean({description: 'never show the menu; nothing is answered', default: false}),
  }

  async run(): Promise<ReviewResult> {
    const {flags} = await this.parse(AskReview)
    const interactive = reviewPrompts({noPrompt: flags['no-prompt'], json: this.jsonEnabled(), stdinTty: process.stdin.isTTY === true, stdoutTty: process.stdout.isTTY === true})
    return await this.withAdminClient(flags, async (c) => {
      const list = (await listApprovals(c, false)).data
      const answered: {id: string; decision: string}[] = []
      if (!interactive || list.approvals.length === 0) {
        for (const l of renderApprovalList(list, Number(this.nowNs() / 1_000_000n), false)) this.out(l)
        if (list.approvals.length > 0) this.out(`no answer given; ${list.approvals.length} request(s) left pending`)
        return {answered, pending: list.approvals.length}
      }
      for (const a of list.approvals) {
        for (const l of renderApproval(a)) this.out(l)
        const d = await promptAskDecision(a.allow_strip)
        if (d === undefined) break
        if (d === 'skip') continue
        try {
          const r = await answerApproval(c, a.id, d, flags.by ?? '', '')
          this.out(renderAnswer(r.data, d))
          answered.push({id: a.id, decision: d})
        } catch (err) {
          this.err(`${a.id}: ${(err as Error).message}`)
        }
      }
      return {answered, pending: list.approvals.length - answered.length}
    })
  }
}
