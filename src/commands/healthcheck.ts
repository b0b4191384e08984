import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import type {HealthcheckResult} from '../plugins/proxy/index.js'

export default class Healthcheck extends BaseCommand {
  static override summary = 'Check that a running pipelock answers /health with 200'
  static override description = 'GET http://<addr>/health with a 3 s timeout; exit 0 iff the status is 200, else 1 (container HEALTHCHECK). An active kill switch does not make the proxy unhealthy (it still answers /health), but the line says so: "healthy (HTTP 200, kill switch active)".'
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
    this.out(r.healthy ? `healthy (HTTP ${r.status}${ks})` : `unhealthy: ${r.error ?? `HTTP ${r.status}${ks}`}`)
    if (!r.healthy) process.exitCode = 1
    return r
  }
}
