import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {adaptiveStatus, renderAdaptiveStatus, type AdaptiveStatus} from '../../plugins/admin-client/index.js'

export default class AdaptiveStatus_ extends AdminCommand {
  static override summary = 'Summarise adaptive enforcement: sessions per escalation level and airlock tier, top anomalies'
  static override description = `GET /api/v1/adaptive/status on the admin API. Prints "adaptive status: sessions=N max_level=L ttl_seconds=T", the session counts per escalation level (normal, elevated, high, critical) and per airlock tier (none, soft, hard, drain), and the top anomaly signals ("top_anomalies: none" when there is none). --json gives the full answer, including recent signal counts.

While the kill switch is active it still answers (status, flush and whoami are exempt like the session endpoints, runtime spec §24 #16 fixed).`
  static override examples = [{description: 'Adaptive enforcement overview', command: '<%= config.bin %> adaptive status --api-url 127.0.0.1:9090'}]
  static override enableJsonFlag = true
  static override flags = {...adminFlags}

  async run(): Promise<AdaptiveStatus> {
    const {flags} = await this.parse(AdaptiveStatus_)
    const r = await this.withAdminClient(flags, async (c) => await adaptiveStatus(c))
    for (const l of renderAdaptiveStatus(r.data)) this.out(l)
    return r.json
  }
}
