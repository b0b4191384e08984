/**
 * `--metrics-listen ADDR` of the commands that wrap a process, `pipelock mcp proxy` and `pipelock
 * sandbox` (containment.md §7; the reference exports neither registry, quirks Q25 and Q-S11, so
 * this is [beyond], opt-in): a listener serving `GET /metrics` in Prometheus text — whatever
 * families the command hands it (the MCP counters, the embedded proxy's registry) and the file
 * sentry's `pipelock_file_sentry_findings_total` — and 404 `404 page not found` for anything else.
 *
 * A flag, not the config's `metrics_listen`: one config is shared by `pipelock run` and by every
 * wrap an MCP client starts, and each would try to bind the same address.
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {parseHostPort} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

export interface MetricsListener {
  readonly address: string
  close(): Promise<void>
}

/** `families` are called per scrape; each returns complete `# HELP`/`# TYPE`/sample lines. */
export async function startMetricsListener(listen: string, families: () => readonly string[]): Promise<MetricsListener> {
  const hp = parseHostPort(listen)
  if (hp === undefined) throw new PipelockError('USAGE', `--metrics-listen "${listen}": want host:port (port 0 picks a free port)`)
  const server = http.createServer((req, res) => {
    req.resume()
    const path = (req.url ?? '').split('?')[0]
    if (req.method === 'GET' && path === '/metrics') {
      const lines = families()
      const body = lines.length === 0 ? '' : lines.join('\n') + '\n'
      res.writeHead(200, {'Content-Type': 'text/plain; version=0.0.4; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body))})
      res.end(body)
      return
    }
    const body = '404 page not found\n'
    res.writeHead(404, {'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(body.length)})
    res.end(body)
  })
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new PipelockError('LISTEN_FAILED', `metrics listener bind ${listen}: ${e.message}`)))
    server.listen(hp.port, hp.host === '' ? undefined : hp.host, () => resolve())
  })
  const a = server.address() as AddressInfo
  return {
    address: `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections()
      server.close(() => r())
    }),
  }
}
