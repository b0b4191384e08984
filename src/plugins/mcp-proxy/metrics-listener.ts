/**
 * `metrics_listen` for `pipelock mcp proxy` (containment.md §7; the reference never exports the
 * MCP proxy's registry, quirk Q25, so this is [beyond] and only with the key set): a separate
 * listener serving `GET /metrics` in Prometheus text — the wrap's MCP counters and the file
 * sentry's `pipelock_file_sentry_findings_total` — and 404 `404 page not found` for anything
 * else. Same key, same meaning as in `pipelock run` (runtime.md §1, "metrics listener").
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
  if (hp === undefined) throw new PipelockError('CONFIG_INVALID', `metrics_listen: "${listen}" is not host:port`)
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
