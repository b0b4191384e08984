/**
 * What the young generation's size costs `pipelock run` under traffic (issue 16: a 1 MiB
 * semi-space keeps every scavenge short, but scavenges more often). Against the built proxy with
 * interception on (the `tls-tunnels` origin and config), once per node-flag set (`--arms "A;B"`,
 * `""` = none: `run`'s own sizing), alternating over `--rounds N`: 32 intercepted tunnels each
 * make `--requests N` kept-alive GETs (1 KiB answers) in turn, then 32 plain forward-proxy
 * clients the same. Per arm: the proxy process's CPU per request (all its threads, GC helpers
 * included, from `/proc/PID/stat`: load-independent up to cache effects), wall requests per
 * second (load-bound), and its RSS at the end. Linux only. Reports; no assertions.
 *
 *   node dist/bench/young-gen-cost.js [--arms "A;B"] [--rounds N] [--requests N] [--baseline DIR]
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import type tls from 'node:tls'
import {fileURLToPath} from 'node:url'
import {repoRoot, spawnPipelock} from './peer-processes.js'
import {tunnel, tunnelFixture} from './tls-tunnels.js'

const TICK_MS = 1000 / 100 // USER_HZ

function procCpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? NaN : Number((Number(m[1]) / 1024).toFixed(1))
}

/** One more GET on an open intercepted tunnel; resolves once the 1 KiB body is in. */
function get(s: tls.TLSSocket, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const onData = (c: Buffer): void => {
      buf = buf.length === 0 ? c : Buffer.concat([buf, c])
      const end = buf.indexOf('\r\n\r\n')
      if (end >= 0 && buf.length - end - 4 >= 1024) {
        s.off('data', onData)
        s.off('error', reject)
        resolve()
      }
    }
    s.on('data', onData)
    s.once('error', reject)
    s.write(`GET /kib HTTP/1.1\r\nHost: ${host}\r\n\r\n`)
  })
}

export async function runYoungGenCostBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string, d: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d)
  const rounds = arg('--rounds', 3)
  const perClient = arg('--requests', 200)
  const clients = 32
  const a = args.indexOf('--arms')
  const flagSets = (a >= 0 ? args[a + 1]! : ';--max-semi-space-size=1').split(';').map((f) => f.split(' ').filter((x) => x !== ''))
  const builds: Array<[string, string, string[]]> = flagSets.map((f) => [f.length === 0 ? 'this build' : `this build ${f.join(' ')}`, repoRoot, f])
  const base = args.indexOf('--baseline')
  if (base >= 0) builds.unshift(['baseline', path.resolve(args[base + 1]!), []])
  const {upPort, ca, cfg, listeners} = await tunnelFixture(['127.0.0.1'], [], 1)
  const host = `127.0.0.1:${upPort}`
  const rows: Record<string, unknown>[] = []
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [build, root, nodeArgs] of round % 2 === 0 ? builds : [...builds].reverse()) {
        const pl = await spawnPipelock(root, cfg, [], nodeArgs)
        const pid = pl.proc.pid!
        const agent = new http.Agent({keepAlive: true, maxSockets: clients})
        const forward = (): Promise<void> => new Promise((resolve, reject) => {
          http.get({host: '127.0.0.1', port: pl.port, path: `http://${host}/kib`, agent}, (res) => {
            res.resume()
            res.once('end', () => resolve())
          }).once('error', reject)
        })
        // Warm-up: JIT and the upstream pools.
        const warm = await Promise.all(Array.from({length: clients}, () => tunnel(pl.port, '127.0.0.1', upPort, ca)))
        for (const w of warm) for (let k = 0; k < 20; k++) await get(w.socket, host)
        for (const w of warm) w.socket.destroy()
        await Promise.all(Array.from({length: clients}, async () => {
          for (let k = 0; k < 20; k++) await forward()
        }))
        const measure = async (name: string, run: () => Promise<void>, n: number): Promise<void> => {
          const c0 = procCpuMs(pid)
          const t0 = process.hrtime.bigint()
          await run()
          const wallS = Number(process.hrtime.bigint() - t0) / 1e9
          rows.push({round: round + 1, build, workload: name, requests: n, proxy_cpu_ms_per_request: Number(((procCpuMs(pid) - c0) / n).toFixed(3)), requests_per_s: Math.round(n / wallS), rss_mib: rssMiB(pid)})
        }
        const open = await Promise.all(Array.from({length: clients}, () => tunnel(pl.port, '127.0.0.1', upPort, ca)))
        await measure(`${clients} intercepted tunnels, kept-alive GETs`, async () => {
          await Promise.all(open.map(async (o) => {
            for (let k = 0; k < perClient; k++) await get(o.socket, host)
          }))
        }, clients * perClient)
        for (const o of open) o.socket.destroy()
        await measure(`${clients} forward-proxy clients, kept-alive GETs`, async () => {
          await Promise.all(Array.from({length: clients}, async () => {
            for (let k = 0; k < perClient; k++) await forward()
          }))
        }, clients * perClient)
        agent.destroy()
        pl.proc.kill('SIGINT')
        await new Promise((r) => pl.proc.once('exit', r))
      }
    }
  } finally {
    for (const l of listeners) l.close()
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runYoungGenCostBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
  process.exit(0)
}
