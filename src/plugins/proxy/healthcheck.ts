/** `pipelock healthcheck` (§1.5): GET /health with a timeout; healthy iff HTTP 200. */
import http from 'node:http'
import {parseHostPort} from '../config/index.js'

export interface HealthcheckResult {
  readonly addr: string
  readonly healthy: boolean
  readonly status: number
  readonly error?: string
}

export async function checkHealth(addr: string, timeoutMs: number): Promise<HealthcheckResult> {
  // Unhealthy either way (exit 1), but named: "ENOTFOUND" did not say the address was the problem.
  if (parseHostPort(addr) === undefined) return {addr, healthy: false, status: 0, error: `--addr ${JSON.stringify(addr)} is not host:port`}
  return await new Promise<HealthcheckResult>((resolve) => {
    const req = http.get(`http://${addr}/health`, {timeout: timeoutMs}, (res) => {
      res.resume()
      res.on('end', () => resolve({addr, healthy: res.statusCode === 200, status: res.statusCode ?? 0}))
      res.on('error', () => resolve({addr, healthy: false, status: res.statusCode ?? 0, error: 'response error'}))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (err: NodeJS.ErrnoException) => resolve({addr, healthy: false, status: 0, error: err.code ?? err.message}))
  })
}
