import {AdminCommand, adminFlags, sessionKeyArg} from '../../cli/admin-command.js'
import {inspectSession, renderSessionDetail, type SessionDetail} from '../../plugins/admin-client/index.js'

export default class SessionInspect extends AdminCommand {
  static override summary = 'Show one session: identity, airlock tier, escalation, threat score, taint, recent events'
  static override description = `GET /api/v1/sessions/<key> on the admin API (the key is percent-encoded: agent|ip is sent as agent%7Cip). Prints "Session <key>", the aligned fields kind, agent, client_ip, airlock_tier, airlock_entered, in_flight, escalation, threat_score, block_all, held_by (only when another session of the client address holds this unbound session), taint_level, contaminated, current task, last_activity, then up to 20 recent events.

Exit 1 when the session does not exist (404), is rate limited (429, 10 inspections a minute), or the server or network fails; 2 for a rejected token, a bad key, a missing URL or token.`
  static override examples = [
    {description: 'An identity session (agent|client-ip; quote the pipe)', command: `<%= config.bin %> session inspect 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090`},
    {description: 'The same as JSON', command: `<%= config.bin %> session inspect 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090 --json`},
  ]
  static override enableJsonFlag = true
  static override args = sessionKeyArg
  static override flags = {...adminFlags}

  async run(): Promise<SessionDetail> {
    const {args, flags} = await this.parse(SessionInspect)
    const r = await this.withAdminClient(flags, async (c) => await inspectSession(c, args.key))
    for (const l of renderSessionDetail(r.data, this.nowNs())) this.out(l)
    return r.json
  }
}
