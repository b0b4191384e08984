/**
 * WebSocket relay cost of `/ws` (transports §7.4 budget: ≤ 0.05 ms per message, scanning excluded):
 * a `ws` echo server on loopback, reached directly and through the built `pipelock run` with
 * frame scanning off (`scan_text_frames: false`: the relay alone) and on (defaults: body scan,
 * text DLP with the cross-message tail, response injection scan). Two measures per arm:
 *   - sequential 100-byte round trips (warm-up, then N measured): p50/p99 and the p50 added over direct;
 *   - a burst of M messages echoed with up to 64 in flight: wall time per message, and the pipelock
 *     process's CPU per message (each message crosses the relay twice, once each way).
 * Ratios and rates from one run; no assertions.
 *
 *   node dist/bench/websocket.js [--round-trips N] [--burst M]
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import WebSocket, {WebSocketServer} from 'ws'
import {processCpuNs, repoRoot, spawnPipelock} from './peer-processes.js'

const PAYLOAD = 'x'.repeat(60) + ' {"op":"ping","seq":12345} ' + 'y'.repeat(13)

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : def
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

async function connect(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, {perMessageDeflate: false})
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  return ws
}

async function roundTrips(ws: WebSocket, warm: number, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < warm + n; i++) {
    const t0 = process.hrtime.bigint()
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve())
      ws.send(PAYLOAD)
    })
    if (i >= warm) out.push(Number(process.hrtime.bigint() - t0) / 1e6)
  }
  return out.sort((a, b) => a - b)
}

async function burst(ws: WebSocket, m: number, inFlight = 64): Promise<number> {
  const t0 = process.hrtime.bigint()
  let sent = 0
  let got = 0
  await new Promise<void>((resolve) => {
    ws.on('message', () => {
      got++
      if (sent < m) {
        sent++
        ws.send(PAYLOAD)
      }
      if (got === m) resolve()
    })
    for (; sent < Math.min(inFlight, m); sent++) ws.send(PAYLOAD)
  })
  ws.removeAllListeners('message')
  return Number(process.hrtime.bigint() - t0) / 1e6
}

export async function runWebSocketBench(args: string[]): Promise<Record<string, unknown>[]> {
  const n = arg(args, '--round-trips', 3000)
  const m = arg(args, '--burst', 20000)
  const wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
  wss.on('connection', (ws) => ws.on('message', (d, bin) => ws.send(d, {binary: bin})))
  await new Promise<void>((r) => wss.once('listening', () => r()))
  const upPort = (wss.address() as AddressInfo).port
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-ws-bench-'))
  const rows: Record<string, unknown>[] = []
  try {
    const arms: Array<{arm: string; scan: boolean | null}> = [{arm: 'direct', scan: null}, {arm: 'pipelock /ws, relay only', scan: false}, {arm: 'pipelock /ws, scanning', scan: true}]
    let directP50 = 0
    for (const a of arms) {
      let proc: Awaited<ReturnType<typeof spawnPipelock>> | undefined
      let url = `ws://127.0.0.1:${upPort}/`
      if (a.scan !== null) {
        const cfg = path.join(dir, `${a.arm.replace(/\W+/g, '-')}.yaml`)
        writeFileSync(cfg, ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'logging:', '  output: file', `  file: ${JSON.stringify(path.join(dir, 'audit.log'))}`, 'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000', 'websocket_proxy:', '  enabled: true', `  scan_text_frames: ${a.scan}`, ''].join('\n'))
        proc = await spawnPipelock(repoRoot, cfg)
        url = `ws://127.0.0.1:${proc.port}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${upPort}/`)}`
      }
      try {
        const ws = await connect(url)
        const rt = await roundTrips(ws, 300, n)
        const cpu0 = proc ? processCpuNs(proc.proc.pid!) : 0
        const wall = await burst(ws, m)
        const cpu1 = proc ? processCpuNs(proc.proc.pid!) : 0
        ws.close()
        const p50 = pct(rt, 50)
        if (a.scan === null) directP50 = p50
        rows.push({
          arm: a.arm,
          'rtt p50 ms': p50,
          'rtt p99 ms': pct(rt, 99),
          'added p50 ms/msg': a.scan === null ? '-' : ((p50 - directP50) / 2).toFixed(4),
          'burst ms/msg': (wall / m).toFixed(4),
          'pipelock CPU ms/msg': proc ? ((cpu1 - cpu0) / 1e6 / (2 * m)).toFixed(4) : '-',
        })
      } finally {
        proc?.proc.kill('SIGTERM')
      }
    }
  } finally {
    for (const c of wss.clients) c.terminate()
    await new Promise<void>((r) => wss.close(() => r()))
    rmSync(dir, {recursive: true, force: true})
  }
  return rows
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const rows = await runWebSocketBench(process.argv.slice(2))
  for (const r of rows) process.stdout.write(JSON.stringify(r) + '\n')
}
