import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import type {HealthcheckResult} from '../plugins/proxy/index.js'

export default class Healthcheck extends BaseCommand {
  static override summary = 'Check that a running pipelock answers /health with 200'
  static override description = 'GET http://<addr>/health with a 3 s timeout; exit 0 iff the status is 200, else 1 (container HEALTHCHECK). An active kill switch does not make the proxy unhealthy (it still answers /health), but the line says so: "healthy (HTTP 200, kill switch active)". A 503 from the watchdog names the subsystems /health reports unhealthy (with health_watchdog.expose_subsystems: "unhealthy: HTTP 503 (unhealthy: scanner)"); a proxy that does not answer is named in words ("unhealthy: connection refused (ECONNREFUSED)").'
  static override examples = ['<%= config.bin %> healthcheck --addr 127.0.0.1:8888']
  static override enableJsonFlag = true
  static override flags = {
    addr: Flags.string({description: 'proxy address host:port', default: '127.0.0.1:8888'}),
  }

  async run(): Promise<HealthcheckResult> {
    const {flags} = await this.parse(Healthcheck)
    const {checkHealth} = await import('../plugins/proxy/index.js')
    const r = await checkHealth(flags.addr, 3000)
    const ks = r.kill_switch_active === true ? ', kill switch active' : ''
    const down = r.unhealthy_subsystems !== undefined && r.unhealthy_subsystems.length > 0 ? ` (unhealthy: ${r.unhealthy_subsystems.join(', ')})` : ''
    this.out(r.healthy ? `healthy (HTTP ${r.status}${ks})` : `unhealthy: ${r.error ?? `HTTP ${r.status}${down}${ks}`}`)
    if (!r.healthy) process.exitCode = 1
    return r
  }
}
