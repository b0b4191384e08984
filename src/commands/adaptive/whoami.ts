import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {adaptiveWhoami, renderWhoami, type Whoami} from '../../plugins/admin-client/index.js'

export default class AdaptiveWhoami extends AdminCommand {
  static override summary = 'Show how pipelock classifies the caller: its session key, tier, escalation level and score'
  static override description = `GET /api/v1/adaptive/whoami on the admin API: the session the server associates with this client's IP (and X-Pipelock-Agent, which this command does not send; an agents: profile whose source_cidrs hold the IP names the session instead, as the proxy binds it), printed as "client_ip=… session=… classification=allow|observe|block tier=… level=… score=… ttl_seconds=…" (and " held_by=<session>" when another session of the client address holds the caller). The classification is what the proxy does with the caller's requests: block under block_all, airlock hard (writes, tunnels and new WebSockets refused) or drain, or a hold of its client address; observe under soft or a raised score or level; else allow.`
  static override examples = [{description: 'Who am I to the proxy?', command: '<%= config.bin %> adaptive whoami --api-url 127.0.0.1:9090'}]
  static override enableJsonFlag = true
  static override flags = {...adminFlags}

  async run(): Promise<Whoami> {
    const {flags} = await this.parse(AdaptiveWhoami)
    const r = await this.withAdminClient(flags, async (c) => await adaptiveWhoami(c))
    for (const l of renderWhoami(r.data)) this.out(l)
    return r.json
  }
}
