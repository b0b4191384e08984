import {userInfo} from 'node:os'
import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {grantException, renderGrant, type ExceptionInfo} from '../../plugins/admin-client/index.js'

export default class ExceptionGrant extends AdminCommand {
  static override summary = 'Grant a scoped, expiring exception: the next N requests that a URL, header or body DLP finding (or another waivable URL-scanner finding) would block pass'
  static override description = `POST /api/v1/exceptions on the admin API of a running pipelock. A one-off waiver instead of a permanent allowlist edit: a request whose URL-scan block matches the exception — host (exact, or *.example.com; never * or a whole public suffix such as *.com, *.co.uk or *.github.io), optional path (a prefix, or a glob where * matches anything), optional finding (a DLP pattern name such as "AWS Access ID", a scanner label such as blocklist, or a block reason), optional agent (a bound identity: listener, CIDR or bind_default_agent_identity; never a self-declared name) — goes on through the rest of the gate instead of being blocked. Each use is counted; after --uses uses, or at --expires, the exception is gone.

Waivable findings: URL-scanner blocklist, allowlist, dlp, entropy, subdomain_entropy, length; request header_dlp and body_dlp findings (one exception per request). Never waived: the kill switch, the airlock, session and contract blocks, core DLP/SSRF protections, rate and data budgets. A --pattern that could never apply is refused at grant time (exit 2): a scanner that is never waived (ssrf, core_dlp, …), a block reason no waivable scanner produces (prompt_injection, escalation_level, …), or a name no scanner of the running config reports. Accepted: the waivable scanner labels above, their reasons (domain_blocklist, domain_not_allowlisted, dlp_match, path_entropy, subdomain_entropy, url_length), and the DLP pattern names of the running config.

The running proxy must sign its flight recorder (flight_recorder.enabled with signing_key_path): grants persist in flight_recorder.dir/exceptions.json across restarts, every use is a signed proxy_decision receipt naming exception:<id>, and the grant itself is a config_change record (audit event and signed receipt) with the operator and reason.

Prints "granted <id>: host=… [path=…] [pattern="…"] [agent=…] uses=N expires_at=<time>". Exit 2 for bad flags, a refused grant (HTTP 400) or a rejected token; 1 when the server refuses otherwise (409: no signing recorder, 100 exceptions in force) or cannot be reached.`
  static override examples = [
    {description: 'Let one request body with a documented fake AWS key through to one path, for two hours (in a URL the same key is a core DLP finding, which is never waived)', command: `<%= config.bin %> exception grant --host api.example.com --path /v1/fixtures --pattern 'AWS Access ID' --expires 2h --reason 'docs fixture contains a fake key' --api-url 127.0.0.1:9090`},
    {description: 'Three uses of a blocklisted host for one bound agent', command: `<%= config.bin %> exception grant --host pastebin.com --agent ci-bot --uses 3 --expires 30m --reason 'INC-412 log upload' --operator alice --api-url 127.0.0.1:9090 --json`},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...adminFlags,
    host: Flags.string({description: 'host the exception applies to: exact, or *.example.com for its subdomains (* and a whole public suffix such as *.com, *.co.uk or *.github.io are refused as too broad)', required: true}),
    path: Flags.string({description: 'URL path: a prefix at a segment boundary (/repos/acme), or a glob with * (/repos/*/docs)'}),
    pattern: Flags.string({description: 'the finding to waive: a DLP pattern name, a scanner label (blocklist, dlp, entropy, …) or a block reason; default any waivable finding'}),
    agent: Flags.string({description: 'only for this agent, as resolved from a listener, CIDR or binding (a self-declared X-Pipelock-Agent never matches)'}),
    uses: Flags.integer({description: 'how many requests may use it (1 to 100)', default: 1}),
    expires: Flags.string({description: 'lifetime as a duration, 1s to 168h (an exception always expires)', default: '1h'}),
    reason: Flags.string({description: 'why (recorded in the audit log and the policy-change trail; at most 1 KiB)', required: true}),
    operator: Flags.string({description: 'who grants it (default: the local user name)'}),
  }

  async run(): Promise<ExceptionInfo> {
    const {flags} = await this.parse(ExceptionGrant)
    const r = await this.withAdminClient(flags, async (c) => await grantException(c, {
      host: flags.host, ...(flags.path !== undefined ? {path: flags.path} : {}), ...(flags.pattern !== undefined ? {pattern: flags.pattern} : {}), ...(flags.agent !== undefined ? {agent: flags.agent} : {}),
      uses: flags.uses, expires: flags.expires, reason: flags.reason, operator: flags.operator ?? userInfo().username,
    }))
    for (const l of renderGrant(r.data)) this.out(l)
    return r.json
  }
}
