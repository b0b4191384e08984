/**
 * The measuring floor for the `proxy` and `connect` benches: the smallest forward proxy Node can be — one
 * `node:http` server relaying absolute-URI GETs through one undici Agent, with no scanning, no
 * policy, no logging, and CONNECT tunnels relayed with `pipe()` both ways. Whatever latency it
 * adds on a machine is what any single-process Node proxy adds there; pipelock's cost is what it
 * adds on top. Not a product feature. With `--onread` the CONNECT download (upstream → client)
 * goes through pipelock's `DownloadRelay` instead (one reused read buffer, tunnel-relay.ts): the
 * same floor for that technique (`--read-kib N`, `--bulk-kib N`: its two buffer sizes; `--bulk-kib
 * 128` is the fixed 128 KiB buffer before the bulk switch).
 *
 *   node dist/bench/bare-relay.js [--onread [--read-kib N] [--bulk-kib N]]   → prints "port <n>" on stdout, serves until killed
 */
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import {Agent} from 'undici'
import {RelayBufferPool} from '../src/plugins/proxy/relay-buffer-pool.js'
import {DownloadRelay} from '../src/plugins/proxy/tunnel-relay.js'

const onread = process.argv.includes('--onread')
/** `--read-kib N` / `--bulk-kib N`: the relay's first and bulk buffer sizes (experiments; defaults as pipelock's). */
const kib = (flag: string): number | undefined => (process.argv.includes(flag) ? Number(process.argv[process.argv.indexOf(flag) + 1]) * 1024 : undefined)
const readBytes = kib('--read-kib')
const bulkBytes = kib('--bulk-kib')
const noDelay = process.argv.includes('--nodelay')
/** `--no-pool`: every tunnel allocates its own buffers (pipelock before the pool). */
const pool = process.argv.includes('--no-pool') ? undefined : new RelayBufferPool()

const agent = new Agent({keepAliveTimeout: 60_000})
const server = http.createServer((req, res) => {
  const target = new URL(req.url ?? '')
  agent
    .request({origin: target.origin, path: target.pathname + target.search, method: 'GET', headers: {host: target.host}})
    .then((up) => {
      res.writeHead(up.statusCode, up.headers as http.OutgoingHttpHeaders)
      up.body.on('data', (c: Buffer) => res.write(c))
      up.body.on('end', () => res.end())
      up.body.on('error', () => res.destroy())
    })
    .catch(() => {
      res.writeHead(502)
      res.end()
    })
})
server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
  const [host, port] = (req.url ?? '').split(':')
  const download = onread ? new DownloadRelay(readBytes, bulkBytes, pool) : null
  const up = net.connect({port: Number(port ?? 443), host: host ?? '127.0.0.1', ...(download !== null ? {onread: download.onread} : {})}, () => {
    if (noDelay) up.setNoDelay(true)
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
    if (head.length > 0) up.write(head)
    client.pipe(up)
    if (download !== null) download.start(up, client)
    else up.pipe(client)
  })
  up.on('error', () => client.destroy())
  client.on('error', () => up.destroy())
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`))
// A clean exit on SIGTERM, so `node --cpu-prof` writes its profile.
process.on('SIGTERM', () => process.exit(0))
