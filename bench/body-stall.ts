/**
 * `npm run bench -- body-stall [--baseline DIR] [--size 1m] [--seconds S] [--rounds N]`: what an
 * agent's large request bodies cost every other agent's traffic. Through the built `pipelock run`
 * (forward proxy, the shipped request-body scanning), a client sends small GETs one at a time
 * (5 ms apart) and reads their latency: alone ("quiet"), then while a second client posts
 * `--size` chat-completion bodies back to back ("loaded"). Beside it, in the same rounds, the
 * same with `--baseline DIR` (another built checkout: e.g. the tree before bodies were scanned off
 * the event loop). Per arm: the small GETs' p50 / p99 / max quiet and loaded, the large bodies
 * relayed per second, and the proxy's RSS before the first large body and after the run (the
 * scan pool's threads included). No assertions.
 *
 *   node dist/bench/index.js body-stall [--baseline DIR] [--size 1m] [--seconds 5] [--rounds 2]
 */
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parseSize} from './body-scan.js'
import {repoRoot, spawnPipelock, type Started} from './peer-processes.js'

const WORDS = 'the agent reads the file and then it writes a summary of what changed in the build with notes about tests that failed '
const prose = (n: number): string => WORDS.repeat(Math.ceil(n / WORDS.length)).slice(0, n)

/** A chat-completion request of about `size` bytes: the conversation an agent sends its LLM each turn. */
function chatBody(size: number): Buffer {
  const messages = Array.from({length: Math.max(1, Math.ceil(size / 2000))}, (_, i) => ({role: i % 2 ? 'assistant' : 'user', content: `${i} ${prose(1900)}`}))
  return Buffer.from(JSON.stringify({model: 'claude-sonnet-4', max_tokens: 4096, messages}))
}

const CONFIG = [
  'forward_proxy:', '  enabled: true',
  'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 1000000000',
  'request_body_scanning:', `  max_body_bytes: ${64 * 1024 * 1024}`,
  'logging:', '  include_allowed: false',
].join('\n') + '\n'

/** One request through the forward proxy (absolute URI); resolves with its latency in ms. */
function through(agent: http.Agent, proxyPort: number, originPort: number, method: string, p: string, body?: Buffer): Promise<number> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method, path: `http://127.0.0.1:${originPort}${p}`, agent, headers: body === undefined ? {} : {'content-type': 'application/json', 'content-length': body.length}}, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`${method} ${p}: ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]!
}
const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024

interface Sample {
  quiet: number[]
  loaded: number[]
  bodies: number
  seconds: number
  rssBefore: number
  rssAfter: number
}

/** Small GETs, 5 ms apart, until `until()`; their latencies. */
async function smallGets(agent: http.Agent, proxyPort: number, originPort: number, until: () => boolean): Promise<number[]> {
  const out: number[] = []
  while (!until()) {
    out.push(await through(agent, proxyPort, originPort, 'GET', '/small'))
    await new Promise((r) => setTimeout(r, 5))
  }
  return out
}

async function round(proxy: Started, originPort: number, body: Buffer, seconds: number, s: Sample): Promise<void> {
  const small = new http.Agent({keepAlive: true, maxSockets: 1})
  const large = new http.Agent({keepAlive: true, maxSockets: 1})
  try {
    const quietEnd = Date.now() + seconds * 1000
    s.quiet.push(...await smallGets(small, proxy.port, originPort, () => Date.now() >= quietEnd))
    if (s.rssBefore === 0) s.rssBefore = rssMiB(proxy.proc.pid!)
    const loadedEnd = Date.now() + seconds * 1000
    let bodies = 0
    const poster = (async () => {
      while (Date.now() < loadedEnd) {
        await through(large, proxy.port, originPort, 'POST', '/large', body)
        bodies++
      }
    })()
    s.loaded.push(...await smallGets(small, proxy.port, originPort, () => Date.now() >= loadedEnd))
    await poster
    s.bodies += bodies
    s.seconds += seconds
    s.rssAfter = rssMiB(proxy.proc.pid!)
  } finally {
    small.destroy()
    large.destroy()
  }
}

export async function runBodyStallBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const size = parseSize(flag('--size') ?? '1m')
  const seconds = Number(flag('--seconds') ?? 5)
  const rounds = Number(flag('--rounds') ?? 2)
  const baseline = flag('--baseline')
  const body = chatBody(size)
  const origin = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end('ok\n'))
  })
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
  const originPort = (origin.address() as AddressInfo).port
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-body-stall-'))
  const configFile = path.join(dir, 'pipelock.yaml')
  writeFileSync(configFile, CONFIG)
  const arms = [{name: 'this tree', root: repoRoot}, ...(baseline === undefined ? [] : [{name: `baseline ${baseline}`, root: path.resolve(baseline)}])]
  const started = await Promise.all(arms.map((a) => spawnPipelock(a.root, configFile)))
  const samples: Sample[] = arms.map(() => ({quiet: [], loaded: [], bodies: 0, seconds: 0, rssBefore: 0, rssAfter: 0}))
  try {
    // Interleaved: every round runs each arm in turn, so drift hits every arm.
    for (let r = 0; r < rounds; r++) for (const [i, p] of started.entries()) await round(p, originPort, body, seconds, samples[i]!)
  } finally {
    for (const p of started) p.proc.kill('SIGTERM')
    origin.closeAllConnections()
    origin.close()
    rmSync(dir, {recursive: true, force: true})
  }
  const ms = (x: number): string => x.toFixed(x < 10 ? 2 : 0)
  return arms.map((a, i) => {
    const s = samples[i]!
    return {
      arm: a.name,
      'large body': `${(body.length / 2 ** 20).toFixed(2)} MiB chat JSON`,
      'small GET quiet p50/p99/max ms': `${ms(pct(s.quiet, 0.5))} / ${ms(pct(s.quiet, 0.99))} / ${ms(Math.max(...s.quiet))}`,
      'small GET loaded p50/p99/max ms': `${ms(pct(s.loaded, 0.5))} / ${ms(pct(s.loaded, 0.99))} / ${ms(Math.max(...s.loaded))}`,
      'small GETs loaded': s.loaded.length,
      'large bodies/s': s.bodies / s.seconds,
      'RSS MiB before / after': `${s.rssBefore.toFixed(0)} / ${s.rssAfter.toFixed(0)}`,
    }
  })
}
