/**
 * `npm run bench -- body-stall [--baseline DIR] [--load post|fetch|ids] [--size 1m] [--seconds S] [--rounds N]`:
 * what an agent's large content costs every other agent's traffic. Through the built `pipelock
 * run`, a client sends small GETs one at a time (5 ms apart, forward proxy) and reads their
 * latency: alone ("quiet"), then while a second client loads the proxy ("loaded"): with `post`
 * (the default) it posts `--size` chat-completion bodies back to back through the forward proxy
 * (the shipped request-body scanning); with `fetch` it reads a `--size` JavaScript-heavy page
 * through `/fetch` again and again (page text, response scan and the hidden-content check of its
 * scripts, styles and comments); with `ids` it posts small JSON bodies of 64 hex identifiers
 * (2.7 KB each, `--size` unused), whose split-secret pairs are tens of milliseconds of scanning
 * each. Beside it, in the same rounds, the same with `--baseline DIR`
 * (another built checkout: e.g. the tree before that work left the event loop). Per arm: the
 * small GETs' p50 / p99 / max quiet and loaded, the large bodies or pages per second, and the
 * proxy's RSS before the first large one and after the run (the scan pool's threads included).
 * No assertions.
 *
 *   node dist/bench/index.js body-stall [--baseline DIR] [--load post|fetch|ids] [--size 1m] [--seconds 5] [--rounds 2]
 */
import {randomBytes} from 'node:crypto'
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

/** Distinct JSON bodies of 64 SHA-1-like hex identifiers (an agent sending a batch of commit ids). */
function idsBodies(): Buffer[] {
  return Array.from({length: 8}, () => Buffer.from(JSON.stringify({commits: Array.from({length: 64}, () => randomBytes(20).toString('hex'))})))
}

type Load = 'post' | 'fetch' | 'ids'

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

/**
 * A page of about `size` bytes as JavaScript-heavy sites serve them: a large inline script and
 * stylesheet, a comment, and prose. What `/fetch` reads as text is the prose; its hidden-content
 * check reads the rest.
 */
function scriptedPage(size: number): Buffer {
  const js = 'function f(a,b){return a+b}; var x = {alpha: 1, beta: "two", gamma: [1,2,3]}; console.log(f(x.alpha, 2));\n'
  const css = '.a{color:red}\n'
  const part = (n: number, unit: string): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n)
  return Buffer.from(`<html><head><title>Docs</title><script>${part(size * 0.6, js)}</script><style>${part(size * 0.1, css)}</style></head><body><p>${prose(size * 0.25)}</p><!-- ${prose(size * 0.05)} --></body></html>`)
}

/** One page through `/fetch` on the proxy's listener; resolves with its latency in ms. */
function fetchPage(agent: http.Agent, proxyPort: number, originPort: number): Promise<number> {
  const t0 = process.hrtime.bigint()
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'GET', path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${originPort}/page`)}`, agent}, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`/fetch: ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
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

async function round(proxy: Started, originPort: number, load: Load, contents: readonly Buffer[], seconds: number, s: Sample): Promise<void> {
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
        if (load === 'fetch') await fetchPage(large, proxy.port, originPort)
        else await through(large, proxy.port, originPort, 'POST', '/large', contents[bodies % contents.length])
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
  const load = flag('--load') ?? 'post'
  if (load !== 'post' && load !== 'fetch' && load !== 'ids') throw new Error(`--load takes post, fetch or ids, not ${JSON.stringify(load)}`)
  const bodies = load === 'ids' ? idsBodies() : [load === 'post' ? chatBody(size) : scriptedPage(size)]
  const body = bodies[0]!
  const origin = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/page') {
        res.writeHead(200, {'content-type': 'text/html; charset=utf-8', 'content-length': body.length})
        res.end(body)
      } else res.end('ok\n')
    })
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
    for (let r = 0; r < rounds; r++) for (const [i, p] of started.entries()) await round(p, originPort, load, bodies, seconds, samples[i]!)
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
      'large content': load === 'ids' ? `${(body.length / 1024).toFixed(1)} KiB JSON of 64 hex ids posted` : `${(body.length / 2 ** 20).toFixed(2)} MiB ${load === 'post' ? 'chat JSON posted' : 'scripted page through /fetch'}`,
      'small GET quiet p50/p99/max ms': `${ms(pct(s.quiet, 0.5))} / ${ms(pct(s.quiet, 0.99))} / ${ms(Math.max(...s.quiet))}`,
      'small GET loaded p50/p99/max ms': `${ms(pct(s.loaded, 0.5))} / ${ms(pct(s.loaded, 0.99))} / ${ms(Math.max(...s.loaded))}`,
      'small GETs loaded': s.loaded.length,
      [load === 'fetch' ? 'pages/s' : load === 'ids' ? 'bodies/s' : 'large bodies/s']: s.bodies / s.seconds,
      'RSS MiB before / after': `${s.rssBefore.toFixed(0)} / ${s.rssAfter.toFixed(0)}`,
    }
  })
}
