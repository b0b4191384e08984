import {AdminCommand, adminFlags} from '../../cli/admin-command.js'
import {adaptiveFlush, renderAdaptiveFlush, type AdaptiveFlush} from '../../plugins/admin-client/index.js'

export default class AdaptiveFlush_ extends AdminCommand {
  static override summary = 'Reset the adaptive state of every identity session and the per-IP domain state (airlock quarantines are kept)'
  static override description = `POST /api/v1/adaptive/flush on the admin API: every identity session gets threat score 0 and level normal (block_all cleared; invocation sessions are skipped and counted), and per-IP domain-burst state is cleared. Airlock tiers are kept, with the sessions' events and live connections: release a quarantine with "pipelock session release". Prints "flushed adaptive state: identity_sessions=N skipped_invocations=M ip_domain_state_cleared=true", then "  levels_reset=N airlock_tiers_kept=K" (sessions whose level or score it cleared; sessions still quarantined). Rate limited to 10 a minute (exit 1 with the retry delay).`
  static override examples = [{description: 'Flush after a false-positive storm', command: '<%= config.bin %> adaptive flush --api-url 127.0.0.1:9090'}]
  static override enableJsonFlag = true
  static override flags = {...adminFlags}

  async run(): Promise<AdaptiveFlush> {
    const {flags} = await this.parse(AdaptiveFlush_)
    const r = await this.withAdminClient(flags, async (c) => await adaptiveFlush(c))
    for (const l of renderAdaptiveFlush(r.data)) this.out(l)
    return r.json
  }
}
