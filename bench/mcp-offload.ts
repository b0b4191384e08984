import {createServer, type Server} from 'node:http'
import {request} from 'undici'
import {resolveConfig} from '../src/plugins/config/index.js'
import {buildMcpRuntime, McpScanOffload, resolveMcpRuntime, startMcpListener, type McpRuntime} from '../src/plugins/mcp-proxy/index.js'
import {pct} from './mcp.js'

// `npm run bench -- mcp-offload [smallCalls] [largeKiB]`: the MCP listener with one session
// sending large tools/call messages back to back while another session sends small calls one
// at a time. Reports the small session's p50/p99 with the scan pool on and with every scan forced
// inline, phases alternating in one run (same process, same upstream, same load). Never asserts.

const WORDS = 'the quick brown fox jumps over the lazy dog while reading the quarterly report aloud '

/** A JSON-RPC upstream that answers every call with a small text result (no SDK: its cost is not measured). */
async function upstream(): Promise<{url: string; server: Server}> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const head = Buffer.concat(chunks).subarray(0, 64).toString('latin1')
      const id = /"id":(\d+)/.exec(head)?.[1] ?? 'null'
      const body = `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"ok"}]}}`
      res.writeHead(200, {'content-type': 'application/json', 'content-length': String(body.length)})
      res.end(body)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {url: `http://127.0.0.1:${(server.address() as {port: number}).port}/mcp`, server}
}

async function call(url: string, session: string, id: number, text: string): Promise<number> {
  const t0 = process.hrtime.bigint()
  const r = await request(url, {
    method: 'POST', body: JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name: 'echo', arguments: {text}}}),
    headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': session},
  })
  await r.body.text()
  return Number(process.hrtime.bigint() - t0) / 1e6
}

/** One phase: large calls back to back in session L while session S makes `n` small calls. */
async function phase(url: string, n: number, large: string, idBase: number): Promise<{small: number[]; large: number}> {
  let stop = false
  let larges = 0
  const loader = (async () => {
    for (let i = 0; !stop; i++) {
      await call(url, 'session-large', idBase + 100_000 + i, large)
      larges++
    }
  })()
  // Let the first large message reach the scan before measuring.
  await new Promise((r) => setTimeout(r, 50))
  const small: number[] = []
  for (let i = 0; i < n; i++) small.push(await call(url, 'session-small', idBase + i, 'hello'))
  stop = true
  await loader
  return {small, large: larges}
}

export async function runMcpOffloadBench(argv: string[]): Promise<Record<string, unknown>[]> {
  const n = Number(argv[0] ?? 40)
  const kib = Number(argv[1] ?? 512)
  const large = WORDS.repeat(Math.ceil((kib * 1024) / WORDS.length)).slice(0, kib * 1024)
  const up = await upstream()
  const config = resolveMcpRuntime(resolveConfig({}, {env: {}}).config, 'listener').config
  const pooled = buildMcpRuntime(config, {})
  const inline: McpRuntime = {
    ...pooled,
    offload: new McpScanOffload({init: {scanner: pooled.deps.scanner.settings, media: null, input: pooled.settings.input, toolScan: true}, inline: true}),
  }
  let current = pooled
  const listener = await startMcpListener({listen: '127.0.0.1:0', upstream: up.url, config, runtime: pooled, current: () => ({config, runtime: current}), recorder: {record: () => undefined}, log: () => undefined})
  const url = `http://${listener.address}/mcp`
  const arms: Record<'pool' | 'inline', {small: number[]; large: number}> = {pool: {small: [], large: 0}, inline: {small: [], large: 0}}
  // Warm-up: JIT and the pool's worker (its scanner compile is not what is measured).
  current = pooled
  await phase(url, 5, large, 1_000_000)
  for (let round = 0; round < 2; round++) {
    for (const arm of round % 2 === 0 ? (['pool', 'inline'] as const) : (['inline', 'pool'] as const)) {
      current = arm === 'pool' ? pooled : inline
      const r = await phase(url, n / 2, large, (round * 2 + (arm === 'pool' ? 0 : 1)) * 10_000)
      arms[arm].small.push(...r.small)
      arms[arm].large += r.large
    }
  }
  await listener.close()
  pooled.close()
  up.server.close()
  const row = (arm: 'pool' | 'inline') => ({
    case: `small call while ${kib} KiB calls stream (${arm === 'pool' ? 'scan pool' : 'forced inline'})`,
    'p50 ms': pct(arms[arm].small, 0.5).toFixed(2), 'p99 ms': pct(arms[arm].small, 0.99).toFixed(2), 'max ms': Math.max(...arms[arm].small).toFixed(1),
    'small calls': arms[arm].small.length, 'large calls done': arms[arm].large,
  })
  return [row('pool'), row('inline'), {
    case: 'ratio inline / pool', 'p50 ms': (pct(arms.inline.small, 0.5) / pct(arms.pool.small, 0.5)).toFixed(1) + '×',
    'p99 ms': (pct(arms.inline.small, 0.99) / pct(arms.pool.small, 0.99)).toFixed(1) + '×', 'max ms': '', 'small calls': '', 'large calls done': '',
  }]
}
