/**
 * What closing many intercepted tunnels at once costs the proxy's main thread, and what the
 * destroy-on-EOF in `intercept/tunnel.ts` saves (issue 16: "no stall over 10 ms with 256
 * tunnels"; the teardown was 10–23 ms of node's socket and TLS shutdown on a quiet machine).
 * Two child processes each serve N TLS connections the way the interceptor does (an HTTP/2
 * secure server with `allowHTTP1`, fed raw sockets through `emit('connection')`); this process
 * opens N connections to each, makes one 1 KiB GET on every one, then destroys them all in one
 * loop. Each child reports its main thread's CPU (`/proc/thread-self/schedstat`) from the first
 * raw socket's close to the last. Arms: `graceful` (node's HTTP server answers the EOF with
 * `end()`: TLS close_notify, TCP shutdown) and `destroy` (the socket is destroyed on EOF when
 * nothing is pending, as the interceptor now does); rounds alternate. Linux only. No assertions.
 *
 *   node dist/bench/tls-teardown.js [--tunnels N] [--rounds N]
 */
import {fork, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import http2 from 'node:http2'
import net, {type AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import {fileURLToPath} from 'node:url'

const threadCpuMs = (): number => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6

/** The child: serves until killed; reports `{port}` once, then `{cpuMs}` each time every connection has closed. */
function serve(mode: string, keyFile: string, certFile: string): void {
  const server = http2.createSecureServer({allowHTTP1: true, key: readFileSync(keyFile), cert: readFileSync(certFile), ALPNProtocols: ['h2', 'http/1.1']})
  server.on('request', (_req, res) => {
    res.writeHead(200, {'content-length': '1024'})
    res.end(Buffer.alloc(1024, 0x61))
  })
  if (mode === 'destroy') server.on('secureConnection', (s: tls.TLSSocket) => s.prependOnceListener('end', () => s.writableLength === 0 && s.destroy()))
  let open = 0
  let c0 = -1
  const front = net.createServer((raw) => {
    open++
    raw.on('close', () => {
      if (c0 < 0) c0 = threadCpuMs()
      if (--open > 0) return
      process.send!({cpuMs: threadCpuMs() - c0})
      c0 = -1
    })
    server.emit('connection', raw)
  })
  front.listen(0, '127.0.0.1', () => process.send!({port: (front.address() as AddressInfo).port}))
}

export async function runTlsTeardownBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string, d: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d)
  const n = arg('--tunnels', 256)
  const rounds = arg('--rounds', 8)
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-bench-teardown-'))
  const key = path.join(dir, 'key.pem')
  const cert = path.join(dir, 'cert.pem')
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`)
  const ca = readFileSync(cert)
  const arms = await Promise.all(['graceful', 'destroy'].map(async (mode) => {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', mode, key, cert])
    const port = await new Promise<number>((resolve) => child.once('message', (m: {port: number}) => resolve(m.port)))
    return {mode, child, port, cpu: [] as number[]}
  }))
  const round = async (a: (typeof arms)[number]): Promise<number> => {
    const sockets = await Promise.all(Array.from({length: n}, () => new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({host: '127.0.0.1', port: a.port, ca, ALPNProtocols: ['http/1.1']}, () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
      let got = 0
      s.on('data', (c: Buffer) => ((got += c.length) > 1024 ? resolve(s) : undefined))
      s.once('error', reject)
    })))
    await new Promise((res) => setTimeout(res, 200))
    const done = new Promise<number>((resolve) => a.child.once('message', (m: {cpuMs: number}) => resolve(m.cpuMs)))
    for (const s of sockets) s.destroy()
    return await done
  }
  try {
    for (let i = 0; i < rounds; i++) for (const a of i % 2 === 0 ? arms : [...arms].reverse()) a.cpu.push(await round(a))
  } finally {
    for (const a of arms) a.child.kill()
  }
  return arms.map((a) => {
    const s = [...a.cpu].sort((x, y) => x - y)
    return {arm: a.mode, tunnels: n, rounds, teardown_cpu_ms_median: Number(s[s.length >> 1]!.toFixed(1)), min: Number(s[0]!.toFixed(1)), max: Number(s[s.length - 1]!.toFixed(1))}
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--serve')
  if (i >= 0) serve(process.argv[i + 1]!, process.argv[i + 2]!, process.argv[i + 3]!)
  else for (const row of await runTlsTeardownBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
