import {Flags} from '@oclif/core'
import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {TIER_FILTERS, listSessions, renderSessionList, type SessionList} from '../../plugins/admin-client/index.js'

export default class SessionList_ extends AdminCommand {
  static override summary = 'List the live sessions of a running pipelock, optionally only those in one airlock tier'
  static override description = `GET /api/v1/sessions on the admin API. Prints a table KEY AGENT IP TIER ESCALATION SCORE LAST-ACTIVE (identity sessions first, then invocation sessions, each sorted by key), or "No sessions match." when there is none.

The admin API URL and token come from --api-url/--api-token, else PIPELOCK_API_URL/PIPELOCK_KILLSWITCH_API_TOKEN, else kill_switch.api_listen/api_token of the config file. Exit 0 on success; 1 when the server or network fails (5xx, 429, unreachable); 2 for a rejected token (401), a bad request, a missing URL or token, or bad flags.`
  static override examples = [
    {description: 'All sessions (token from the environment)', command: 'PIPELOCK_KILLSWITCH_API_TOKEN=s3cret <%= config.bin %> session list --api-url 127.0.0.1:9090'},
    {description: 'Only sessions held in the hard airlock tier, as JSON', command: '<%= config.bin %> session list --api-url http://127.0.0.1:9090 --tier hard --json'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    ...adminFlags,
    tier: Flags.string({description: 'only sessions in this airlock tier (normal = none)', options: [...TIER_FILTERS]}),
  }

  async run(): Promise<SessionList> {
    const {flags} = await this.parse(SessionList_)
    const r = await this.withAdminClient(flags, async (c) => await listSessions(c, flags.tier as (typeof TIER_FILTERS)[number] | undefined))
    for (const l of renderSessionList(r.data, this.nowNs())) this.out(l)
    return r.json
  }
}
