import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {request} from 'undici'
import {ulidToUuid} from '../../src/plugins/canonical/index.js'
import {buildLockRoster, learnLockLines} from '../helpers/lock-roster.js'
import {repoPath} from '../helpers/vectors.js'
import {startProxy, until, type RunningProxy} from './proxy-harness.js'

// The closed learn-and-lock loop on one host, through the built CLI with real sockets and real
// clients (issue "Close the learn-and-lock loop"): observe a scripted workload from curl and
// undici → compile → ratify → run with learn_lock live → promote while it runs → an allowed
// request passes, an unlisted one is 403 contract_default_deny naming its receipt, a secret on an
// allowed path is still blocked by the scanner → observe more, promote a wider contract → roll
// back → blocked again → a restart keeps the contract. The receipt chain verifies and matches
// what the clients saw; no capture or evidence file holds the secret.
//
// The upstreams listen on port 80 of 127.0.0.2 and 127.0.0.3 (the test runs as root, like CI):
// a live contract blocks every non-default port (learn-lifecycle §7.6), so the hosts must be
// reachable the way an agent reaches a real API.

const SECRET = 'AKIAQYLPMN5HHHFPZAM2'
const dir = mkdtempSync(path.join(tmpdir(), 'pl-loop-'))
const home = path.join(dir, 'home')
mkdirSync(home)
const ks = path.join(dir, 'ks')
const store = path.join(dir, 'store')
const capture = path.join(dir, 'capture')
const recorderDir = path.join(dir, 'recorder')
const rosterFile = path.join(dir, 'roster.json')
const rootFile = path.join(dir, 'root.json')
const env = {HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), NO_COLOR: '1'}

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

function pipelock(args: string[]): Run {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {encoding: 'utf8', env: {...process.env, ...env}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stderr}`)
  return r
}

const upstreams: http.Server[] = []
const seen: string[] = []

async function upstreamOn(host: string): Promise<void> {
  const server = http.createServer((req, res) => {
    seen.push(`${host} ${req.method} ${req.url}`)
    res.writeHead(200, {'content-type': 'application/json'})
    res.end(JSON.stringify({host, path: req.url}) + '\n')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:80 (${e.code}); the closed-loop test needs root to bind port 80`)))
    server.listen(80, host, () => resolve())
  })
  upstreams.push(server)
}

function config(extra: string, recorder = recorderDir): string {
  return [
    'forward_proxy:',
    '  enabled: true',
    'ssrf:',
    '  ip_allowlist: ["127.0.0.0/8"]',
    'learn:',
    `  capture_dir: ${capture}`,
    '  inference:',
    '    floors: {min_sessions: 1, min_events: 1, min_windows: 1}',
    'flight_recorder:',
    '  enabled: true',
    `  dir: ${recorder}`,
    `  signing_key_path: ${path.join(ks, 'agents', 'receipt-signing', 'id_ed25519')}`,
    extra,
  ].join('\n') + '\n'
}

let fp = ''
function lockConfig(): string {
  return config(learnLockLines(store, rosterFile, fp).join('\n'))
}

/** curl through the forward proxy (asynchronous: the upstreams live in this process); status, headers, body. */
async function curl(proxyPort: number, url: string): Promise<{status: number; headers: Record<string, string>; body: string}> {
  const proc = spawn('curl', ['-sS', '-i', '--max-time', '10', '-x', `http://127.0.0.1:${proxyPort}`, '-H', 'X-Pipelock-Agent: shop', url])
  let stdout = ''
  let stderr = ''
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve))
  assert.equal(code, 0, `curl ${url}: ${stderr}`)
  const [head, ...rest] = stdout.split('\r\n\r\n')
  const lines = head!.split('\r\n')
  const headers: Record<string, string> = {}
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':')
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
  }
  return {status: Number(lines[0]!.split(' ')[1]), headers, body: rest.join('\r\n\r\n')}
}

/** undici through the /fetch endpoint. */
async function viaFetch(proxyPort: number, url: string): Promise<number> {
  const r = await request(`http://127.0.0.1:${proxyPort}/fetch?url=${encodeURIComponent(url)}`, {headers: {'x-pipelock-agent': 'shop'}})
  await r.body.text()
  return r.statusCode
}

async function workload(port: number, wide: boolean): Promise<void> {
  for (let i = 0; i < 3; i++) {
    assert.equal((await curl(port, 'http://127.0.0.2/v1/users')).status, 200)
    assert.equal((await curl(port, `http://127.0.0.2/v1/users/${100 + i}?page=${i}`)).status, 200)
    assert.equal(await viaFetch(port, 'http://127.0.0.2/v1/orders'), 200)
  }
  // A secret in the query is blocked by the scanner, and must not reach any capture file.
  assert.equal((await curl(port, `http://127.0.0.2/v1/users?key=${SECRET}`)).status, 403)
  if (wide) for (let i = 0; i < 3; i++) assert.equal((await curl(port, 'http://127.0.0.3/admin')).status, 200)
}

/** `pipelock learn observe` until its banner is out. */
async function observe(): Promise<{port: number; proc: ChildProcess; stdout: () => string; stop: () => Promise<number | null>}> {
  const cfg = path.join(dir, 'observe.yaml')
  // Its own recorder directory: one chain has one writer (the live proxy runs at the same time).
  writeFileSync(cfg, config('', path.join(dir, 'observe-recorder')))
  const proc = spawn(process.execPath, [repoPath('bin', 'run.js'), 'learn', 'observe', '--config', cfg, '--listen', '127.0.0.1:0'], {env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let out = ''
  let err = ''
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()))
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  assert.ok(await until(async () => /Listen: 127\.0\.0\.1:\d+/.test(err) && err.includes('"event":"startup"'), 15_000), `observe did not start: ${err}`)
  return {
    port: Number(/Listen: 127\.0\.0\.1:(\d+)/.exec(err)![1]),
    proc,
    stdout: () => out,
    stop: async () => {
      proc.kill('SIGINT')
      return await exited
    },
  }
}

function compileAndRatify(n: number): string {
  const cand = path.join(dir, `cand${n}.yaml`)
  const rat = path.join(dir, `ratified${n}.yaml`)
  const cfg = path.join(dir, 'observe.yaml')
  const c = ok(pipelock(['learn', 'compile', '--agent', 'shop', '--config', cfg, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--output', cand]), `compile ${n}`)
  assert.match(c.stdout, /^compile: \d+ events, \d+ rules, written to /)
  ok(pipelock(['learn', 'ratify', '--candidate', cand, '--out', rat, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--accept-low-confidence']), `ratify ${n}`)
  return rat
}

const lifecycle = (): string[] => ['--contract-store', store, '--roster', rosterFile, '--keystore', ks, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice']

async function health(port: number): Promise<{status: number; body: {learn_lock?: {generation: number; mode: string; active_manifest_hash: string; agent_identity: string}}}> {
  const r = await request(`http://127.0.0.1:${port}/health`)
  return {status: r.statusCode, body: (await r.body.json()) as never}
}

describe('the closed learn-and-lock loop on one host', () => {
  let live: RunningProxy | undefined
  const outcomes: Array<{url: string; status: number; receipt?: string}> = []
  after(async () => {
    await live?.stop()
    for (const s of upstreams) s.close()
  })

  it('set-up: upstreams on port 80, keys, roster', async () => {
    await upstreamOn('127.0.0.2')
    await upstreamOn('127.0.0.3')
    fp = buildLockRoster(pipelock, ks, rootFile, rosterFile)
  })

  it('learn observe captures the workload (curl forward proxy, undici /fetch), redacted, 0700/0600', async () => {
    const o = await observe()
    assert.match(o.stdout(), /^observation session started: session_id=[0-9a-f-]{36} capture_dir=/)
    await workload(o.port, false)
    assert.equal(await o.stop(), 0)
    const sdir = path.join(capture, 'shop|127.0.0.1')
    assert.ok(existsSync(sdir), `capture session dir: ${readdirSync(capture).join(', ')}`)
    assert.equal(statSync(capture).mode & 0o777, 0o700)
    const files = readdirSync(sdir)
    for (const f of files) assert.equal(statSync(path.join(sdir, f)).mode & 0o777, 0o600)
    const lines = files.flatMap((f) => readFileSync(path.join(sdir, f), 'utf8').trim().split('\n'))
    const caps = lines.map((l) => JSON.parse(l) as {type: string; detail: {request: {url: string; method: string}; outcome: string; subsurface: string}}).filter((e) => e.type === 'capture')
    // 3×(2 curl + 1 fetch) + the blocked secret request: every decision, clean ones included.
    assert.equal(caps.length, 10)
    assert.deepEqual([...new Set(caps.map((c) => c.detail.subsurface))].sort(), ['fetch', 'forward'])
    assert.equal(caps.filter((c) => c.detail.outcome === 'blocked').length, 1)
    assert.ok(lines.some((l) => JSON.parse(l).type === 'checkpoint'), 'a final checkpoint on SIGINT')
  })

  it('compile → ratify, then pipelock run with learn_lock live starts with no contract promoted', async () => {
    const rat = compileAndRatify(1)
    live = await startProxy(lockConfig(), {dir, env})
    assert.match(live.stderr(), /learn_lock: mode=live store=.* no contract promoted yet/)
    assert.match(live.stderr(), /WARNING: learn_lock live: the contract is chosen by the agent name each agent declares itself/)
    const h = await health(live.port)
    assert.equal(h.body.learn_lock?.generation, 0)
    assert.equal(h.body.learn_lock?.agent_identity, 'self_declared')
    // Nothing promoted: scanner-only, the unlisted host passes.
    assert.equal((await curl(live.port, 'http://127.0.0.3/admin')).status, 200)
    ok(pipelock(['learn', 'promote', ...lifecycle(), '--candidate', rat, '--selector', 'shop', '--environment-id', 'prod']), 'promote 1')
    assert.ok(await until(async () => (await health(live!.port)).body.learn_lock?.generation === 1, 15_000), `generation 1 enforced without a restart: ${JSON.stringify((await health(live.port)).body.learn_lock)}\n${live.stderr()}`)
  })

  it('live: allowed passes, unlisted is 403 contract_default_deny naming its receipt, a secret is still blocked', async () => {
    const a = await curl(live!.port, 'http://127.0.0.2/v1/users')
    assert.equal(a.status, 200)
    outcomes.push({url: 'users', status: a.status})
    const d = await curl(live!.port, 'http://127.0.0.3/admin')
    assert.equal(d.status, 403)
    assert.equal(d.headers['x-pipelock-block-reason'], 'contract_default_deny')
    assert.equal(d.headers['x-pipelock-block-reason-layer'], 'contract')
    assert.equal(d.headers['x-pipelock-block-reason-severity'], 'critical')
    assert.equal(d.headers['x-pipelock-block-reason-retry'], 'policy')
    assert.match(d.headers['x-pipelock-block-reason-receipt'] ?? '', /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
    outcomes.push({url: 'admin', status: 403, receipt: d.headers['x-pipelock-block-reason-receipt']!})
    const s = await curl(live!.port, `http://127.0.0.2/v1/users?key=${SECRET}`)
    assert.equal(s.status, 403)
    assert.notEqual(s.headers['x-pipelock-block-reason'], 'contract_default_deny')
    assert.match(s.headers['x-pipelock-block-reason-receipt'] ?? '', /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/)
    assert.ok(!s.body.includes(SECRET))
  })

  it('observe more, promote a wider contract: the admin host is allowed; roll back: blocked again', async () => {
    const o = await observe()
    await workload(o.port, true)
    assert.equal(await o.stop(), 0)
    const rat = compileAndRatify(2)
    ok(pipelock(['learn', 'promote', ...lifecycle(), '--candidate', rat, '--selector', 'shop']), 'promote 2')
    assert.ok(await until(async () => (await health(live!.port)).body.learn_lock?.generation === 2, 15_000))
    assert.equal((await curl(live!.port, 'http://127.0.0.3/admin')).status, 200)
    const g1 = JSON.parse(readFileSync(path.join(store, 'activation-receipts.jsonl'), 'utf8').split('\n')[1]!).payload.target_manifest_hash as string
    ok(pipelock(['learn', 'rollback', ...lifecycle(), '--to', g1]), 'rollback')
    assert.ok(await until(async () => (await health(live!.port)).body.learn_lock?.generation === 3, 15_000))
    assert.equal((await curl(live!.port, 'http://127.0.0.3/admin')).status, 403)
  })

  it('a restart keeps the contract in force', async () => {
    await live!.stop()
    live = await startProxy(lockConfig(), {dir, env})
    assert.match(live.stderr(), /learn_lock: mode=live store=.* generation=3 manifest=sha256:[0-9a-f]{64}/)
    assert.equal((await curl(live.port, 'http://127.0.0.3/admin')).status, 403)
    assert.equal((await curl(live.port, 'http://127.0.0.2/v1/users')).status, 200)
    await live.stop()
    live = undefined
  })

  it('the receipt chain verifies, its decisions match what the clients saw, and no file holds the secret', () => {
    const files = readdirSync(recorderDir).filter((f) => f.endsWith('.jsonl')).sort()
    assert.ok(files.length >= 1, 'the recorder wrote its chain')
    const receipts: Array<{action_id: string; verdict: string; target: string; contract_hash?: string; contract_winning_source?: string}> = []
    let proxyDecisions = 0
    const v = pipelock(['verify-receipt', '--chain', recorderDir, '--key', path.join(ks, 'agents', 'receipt-signing', 'id_ed25519.pub')])
    assert.equal(v.code, 0, `${v.stdout}${v.stderr}`)
    assert.match(v.stdout, /CHAIN VALID/)
    // The auditor is handed the header's ULID: verify-receipt finds the receipt by it.
    const denied0 = outcomes.find((o) => o.url === 'admin')!
    const f = pipelock(['verify-receipt', '--chain', recorderDir, '--key', path.join(ks, 'agents', 'receipt-signing', 'id_ed25519.pub'), '--find', denied0.receipt!])
    assert.equal(f.code, 0, f.stderr)
    assert.match(f.stdout, new RegExp(`^Receipt ${denied0.receipt!}: .*evidence-proxy-\\d+\\.jsonl:\\d+\\n  Action ID:   ${ulidToUuid(denied0.receipt!)}\\n  Verdict:     block \\(contract\\)\\n  Target:      http://127\\.0\\.0\\.3/admin\\n`, 'm'))
    const nf = pipelock(['verify-receipt', '--chain', recorderDir, '--key', path.join(ks, 'agents', 'receipt-signing', 'id_ed25519.pub'), '--find', '01JH3KQ2V8ZQ6W4N0B1C5D7E9F'])
    assert.equal(nf.code, 1)
    assert.match(nf.stderr, /receipt 01JH3KQ2V8ZQ6W4N0B1C5D7E9F not found/)
    for (const f of files) {
      for (const l of readFileSync(path.join(recorderDir, f), 'utf8').trim().split('\n')) {
        const e = JSON.parse(l) as {type: string; event_kind: string; detail: Record<string, unknown>}
        if (e.type === 'action_receipt' && e.detail.action_record) receipts.push(e.detail.action_record as never)
        if (e.type === 'evidence_receipt' && e.event_kind === 'proxy_decision') proxyDecisions++
      }
    }
    const denied = outcomes.find((o) => o.url === 'admin')!
    const r = receipts.find((x) => x.action_id === ulidToUuid(denied.receipt!))
    assert.ok(r, 'the receipt named by the block header is in the chain')
    assert.equal(r.verdict, 'block')
    assert.equal(r.contract_winning_source, 'contract')
    assert.match(r.contract_hash ?? '', /^sha256:[0-9a-f]{64}$/)
    assert.ok(proxyDecisions > 0, 'decisions under a contract are also v2 proxy_decision receipts')
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? walk(path.join(d, n)) : [path.join(d, n)]))
    for (const f of [...walk(capture), ...walk(recorderDir)]) assert.ok(!readFileSync(f, 'utf8').includes(SECRET), `${f} holds the secret`)
    assert.ok(!seen.some((s) => s.includes(SECRET)), 'the secret never reached an upstream')
  })
})
