/** `pipelock healthcheck` (§1.5): GET /health with a timeout; healthy iff HTTP 200. */
import http from 'node:http'
import {parseHostPort} from '../config/index.js'
import {networkErrorReason} from '../errors/index.js'

/** A /health answer is a small JSON object (§17); more than this is not read for the kill switch state. */
const MAX_HEALTH_BODY = 64 * 1024

export interface HealthcheckResult {
  readonly addr: string
  readonly healthy: boolean
  readonly status: number
  readonly error?: string
  /** `/health`'s `kill_switch_active`, when the answer carries it (health stays 200 while it is on, §11.2). */
  readonly kill_switch_active?: boolean
  /** The subsystems `/health` reports unhealthy (its `subsystems` map, served with `health_watchdog.expose_subsystems`). */
  readonly unhealthy_subsystems?: string[]
}

/** What one GET answered: its status and the first `MAX_HEALTH_BODY` bytes of its body, or why there was no answer. */
export type ProbeAnswer = {readonly status: number; readonly body: string} | {readonly status: number; readonly error: string}

/**
 * One GET of `http://ADDR/PATH` on a connection of its own (a pooled socket from an earlier probe
 * would answer for a gone server), given up after `timeoutMs`.
 */
export async function probeOnce(addr: string, urlPath: string, timeoutMs: number): Promise<ProbeAnswer> {
  return await new Promise<ProbeAnswer>((resolve) => {
    const req = http.get(`http://${addr}${urlPath}`, {timeout: timeoutMs, agent: false}, (res) => {
      const chunks: Buffer[] = []
      let size = 0
      res.on('data', (c: Buffer) => {
        size += c.length
        if (size <= MAX_HEALTH_BODY) chunks.push(c)
      })
      res.on('end', () => resolve({status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8')}))
      res.on('error', () => resolve({status: res.statusCode ?? 0, error: 'response error'}))
    })
    let timedOut = false
    req.on('timeout', () => {
      timedOut = true
      req.destroy(new Error('timeout'))
    })
    // In words, with the code for grepping: "connection refused (ECONNREFUSED)", not a bare "ECONNREFUSED".
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({status: 0, error: timedOut ? `no answer within ${timeoutMs / 1000} s` : err.code !== undefined ? networkErrorReason(err.code) : err.message}),
    )
  })
}

export async function checkHealth(addr: string, timeoutMs: number): Promise<HealthcheckResult> {
  // Unhealthy either way (exit 1), but named: "ENOTFOUND" did not say the address was the problem.
  if (parseHostPort(addr) === undefined) return {addr, healthy: false, status: 0, error: `--addr ${JSON.stringify(addr)} is not host:port`}
  const r = await probeOnce(addr, '/health', timeoutMs)
  if ('error' in r) return {addr, healthy: false, status: r.status, error: r.error}
  const ks = killSwitchActive(r.body)
  const down = r.status === 200 ? undefined : unhealthySubsystems(r.body)
  return {addr, healthy: r.status === 200, status: r.status, ...(ks === undefined ? {} : {kill_switch_active: ks}), ...(down === undefined ? {} : {unhealthy_subsystems: down})}
}

function killSwitchActive(body: string): boolean | undefined {
  try {
    const j = JSON.parse(body) as unknown
    if (j !== null && typeof j === 'object' && typeof (j as {kill_switch_active?: unknown}).kill_switch_active === 'boolean') {
      return (j as {kill_switch_active: boolean}).kill_switch_active
    }
  } catch {
    // not JSON: health is the status code alone
  }
  return undefined
}

/** Names of the subsystems a `/health` answer marks false (§17), sorted; undefined when it has no map. */
function unhealthySubsystems(body: string): string[] | undefined {
  try {
    const j = JSON.parse(body) as {subsystems?: unknown}
    if (j === null || typeof j !== 'object' || j.subsystems === null || typeof j.subsystems !== 'object') return undefined
    return Object.entries(j.subsystems as Record<string, unknown>).filter(([, v]) => v === false).map(([k]) => k).sort()
  } catch {
    return undefined
  }
}
