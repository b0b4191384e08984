import {AdminCommand, adminFlags, sessionKeyArg} from '../../cli/admin-command.js'
import {explainSession, renderSessionExplanation, type SessionExplanation} from '../../plugins/admin-client/index.js'

export default class SessionExplain extends AdminCommand {
  static override summary = 'Explain why a session is (or is not) quarantined and when it will de-escalate'
  static override description = `GET /api/v1/sessions/<key>/explain on the admin API. Prints "Session <key> explanation" with the airlock tier, the reason (it names another session of the client address when that one holds this unbound session, with a held_by line), the trigger and its source, escalation level, threat score, when the tier was entered, the evidence that led there ("(none recorded)" when there is none) and the next automatic de-escalation: "tier=<t> at=<time> (in …)", or, for a quarantine whose tier has no timer (its airlock.timers value is 0), "none (this tier has no timer: only an operator release lowers it)"; and, while the escalation level is above normal, when time recovery lowers it next: "level_recovery: level=<l> at=<time> (in …)".

Exit 1 when the session does not exist (404), is rate limited (429) or the server or network fails; 2 for a rejected token, a bad key, a missing URL or token.`
  static override examples = [
    {description: 'Why is this agent held?', command: `<%= config.bin %> session explain 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090`},
    {description: 'The same as JSON (next_deescalation_tier / _at only when a timer will lower the tier)', command: `<%= config.bin %> session explain 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090 --json`},
  ]
  static override enableJsonFlag = true
  static override args = sessionKeyArg
  static override flags = {...adminFlags}

  async run(): Promise<SessionExplanation> {
    const {args, flags} = await this.parse(SessionExplain)
    const r = await this.withAdminClient(flags, async (c) => await explainSession(c, args.key))
    for (const l of renderSessionExplanation(r.data, this.nowNs())) this.out(l)
    return r.json
  }
}
