import {AdminCommand, adminFlags, sessionKeyArg} from '../../cli/admin-command.js'
import {renderTerminate, terminateSession, type TerminateResult} from '../../plugins/admin-client/index.js'

export default class SessionTerminate extends AdminCommand {
  static override summary = 'Terminate a session: reset its score and quarantine and cut its in-flight connections'
  static override description = `POST /api/v1/sessions/<key>/terminate on the admin API: like a reset (threat score 0, level normal, airlock none, burst and CEE state cleared) and it cuts the session's live tunnels, WebSockets, MCP streams and streaming responses, and its in-flight /fetch, forward-proxy and reverse-proxy requests, those waiting on their upstream and those held for an operator's approval (answered 403 airlock_active "request cut: session terminated", their upstream requests aborted, their approvals withdrawn; a request inside an intercepted tunnel gets the same answer before its tunnel closes, and the tunnel counts as one connection, with the wss:// WebSocket or stream relayed inside it). When it cut any, a WARNING line on stderr says how many ("— 1 in-flight connection was cut."); then "terminated <key>: previous_tier=… level=… score=… cee_cleared=…" on stdout.

Invocation sessions (mcp-stdio-…, mcp-http-…, mcp-ws-…) cannot be terminated (HTTP 400, exit 2). Exit 1 when the session does not exist, the action is rate limited (10 a minute) or the server or network fails.`
  static override examples = [
    {description: 'Terminate an identity session', command: `<%= config.bin %> session terminate 'my-agent|10.0.0.5' --api-url 127.0.0.1:9090`},
  ]
  static override enableJsonFlag = true
  static override args = sessionKeyArg
  static override flags = {...adminFlags}

  async run(): Promise<TerminateResult> {
    const {args, flags} = await this.parse(SessionTerminate)
    const r = await this.withAdminClient(flags, async (c) => await terminateSession(c, args.key))
    const text = renderTerminate(r.data)
    if (text.warning !== undefined) this.err(text.warning)
    for (const l of text.lines) this.out(l)
    return r.json
  }
}
