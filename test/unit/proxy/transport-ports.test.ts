// Each transport runs on the ports it declares and nothing else (docs/architecture.md, "The
// composition root"): `/fetch` and CONNECT are built here from fakes and real parts holding
// exactly `FetchPorts` / `ConnectPorts`, behind a guard that fails the test on any read of a
// member the type does not declare, and exercised over real sockets. The `@ts-expect-error`
// lines pin the same at compile time: a port a transport did not declare is not there to reach.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import http from 'node:http'
import net, {type AddressInfo} from 'node:net'
import path from 'node:path'
import {test} from 'node:test'
import {Agent, request} from 'undici'
import {systemClock} from '../../../src/plugins/canonical/index.js'
import {loadConfig} from '../../../src/plugins/config/load.js'
import {KillSwitchController} from '../../../src/plugins/killswitch/index.js'
import {AuditLog} from '../../../src/plugins/proxy/audit-log.js'
import {handleConnect, type ConnectPorts} from '../../../src/plugins/proxy/connect-handler.js'
import type {DecisionBase} from '../../../src/plugins/proxy/core.js'
import type {Decision, Transport} from '../../../src/plugins/proxy/decision.js'
import {handleFetch, type FetchPorts} from '../../../src/plugins/proxy/fetch-handler.js'
import type {GatePorts} from '../../../src/plugins/proxy/gate/context.js'
import {sessionKey} from '../../../src/plugins/proxy/identity.js'
import {ProxyMetrics} from '../../../src/plugins/proxy/metrics.js'
import {ResponseTransformState} from '../../../src/plugins/proxy/relay/response-transforms.js'
import {buildSnapshot} from '../../../src/plugins/proxy/state.js'
import {tempDir} from '../../e2e/proxy-harness.js'

/** `ports` behind a guard: reading a member it does not hold fails the test (a transport reaching past its ports). */
function only<T extends object>(ports: T): T {
  return new Proxy(ports, {
    get(target, name, receiver) {
      if (typeof name === 'string' && !(name in target)) assert.fail(`the transport read "${name}", which its ports do not declare`)
      return Reflect.get(target, name, receiver)
    },
  })
}

/** The gate's ports from real parts of a config that lets 127.0.0.1 through; decisions land in `decisions`. */
function gatePorts(yaml: string[]): {gate: GatePorts; decisions: Decision[]; killSwitch: KillSwitchController} {
  const file = path.join(tempDir(), 'pipelock.yaml')
  writeFileSync(file, [...yaml, 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]'].join('\n') + '\n')
  const loaded = loadConfig(file)
  const snap = buildSnapshot(loaded.config, loaded.hash, {}, systemClock)
  const nowMs = (): number => Number(systemClock.nowNanos() / 1_000_000n)
  const decisions: Decision[] = []
  const audit = new AuditLog([], {includeAllowed: false, includeBlocked: false, now: () => new Date()})
  const killSwitch = new KillSwitchController({enabled: false, sentinelFile: '', message: 'stopped by the test'})
  const metrics = new ProxyMetrics('test', nowMs(), nowMs, {killSwitchSources: () => killSwitch.status().sources, activeTunnels: () => 0, sessions: () => null, crossRequest: () => null})
  const gate: GatePorts = {
    snapshot: () => snap, nowMs, audit, metrics, killSwitch, trackStream: () => () => undefined, approvals: undefined, transforms: new ResponseTransformState(),
    sink: {record: (d) => (decisions.push(d), `receipt-${decisions.length}`)}, contracts: null, exceptions: null,
  }
  return {gate, decisions, killSwitch}
}

function base(transport: Transport, method: string): DecisionBase {
  return {requestId: `req-${transport}`, transport, method, agent: 'anonymous', clientIp: '127.0.0.1', sessionKey: sessionKey('anonymous', '127.0.0.1'), startMs: 0}
}

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

// Compile time: what a transport did not declare is not there to reach.
export function undeclaredPortsDoNotCompile(f: FetchPorts, c: ConnectPorts): void {
  // @ts-expect-error /fetch dials nothing itself: its upstream pool does.
  void f.dial
  // @ts-expect-error /fetch holds no tunnel registry.
  void f.trackTunnel
  // @ts-expect-error CONNECT has no HTTP upstream pool.
  void c.upstream
  // @ts-expect-error no transport receives request ids: the listener stamps them on the base.
  void c.nextRequestId
}

test('/fetch runs on FetchPorts alone: the gate, the upstream pool, one Decision through the sink port', async () => {
  const {gate, decisions, killSwitch} = gatePorts([])
  const pool = new Agent()
  const ports: FetchPorts = only({...gate, upstream: pool})
  const upstream = http.createServer((_req, res) => {
    res.writeHead(200, {'Content-Type': 'text/plain'})
    res.end('hello from upstream')
  })
  const proxy = http.createServer((req, res) => {
    const q = (req.url ?? '').indexOf('?')
    void handleFetch(ports, {req, res, b: base('fetch', req.method ?? ''), rawQuery: q < 0 ? '' : (req.url ?? '').slice(q + 1)})
  })
  const upPort = await listen(upstream)
  const port = await listen(proxy)
  const client = new Agent()
  try {
    const url = `http://127.0.0.1:${port}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upPort}/page`)}`
    const ok = await request(url, {dispatcher: client})
    const body = (await ok.body.json()) as {content: string; blocked: boolean}
    assert.equal(ok.statusCode, 200)
    assert.deepEqual([body.content, body.blocked], ['hello from upstream', false])
    assert.deepEqual(decisions.map((d) => [d.transport, d.verdict, d.status]), [['fetch', 'allow', 200]])

    // The kill switch reaches /fetch through its KillSwitchPort: the gate's first stage answers.
    killSwitch.setApi(true)
    const blocked = await request(url, {dispatcher: client})
    await blocked.body.dump()
    assert.equal(blocked.statusCode, 503)
    assert.equal(blocked.headers['x-pipelock-block-reason'], 'kill_switch_active')
    assert.deepEqual(decisions.slice(1).map((d) => [d.transport, d.verdict, d.reason]), [['fetch', 'block', 'kill_switch_active']])
  } finally {
    await client.close()
    await pool.close()
    await close(proxy)
    await close(upstream)
  }
})

test('CONNECT runs on ConnectPorts alone: it dials through the Dialer port and lives in the TunnelRegistry port until it closes', async () => {
  const {gate, decisions} = gatePorts(['forward_proxy:', '  enabled: true', '  sni_verification: false', '  raw_tunnel_hosts: ["127.0.0.1"]'])
  const dials: string[] = []
  const live = new Set<() => void>()
  let untracked!: () => void
  const closed = new Promise<void>((resolve) => (untracked = resolve))
  const ports: ConnectPorts = only({
    ...gate,
    dial: async (host: string, port: number, onread?: net.OnReadOpts) => {
      dials.push(`${host}:${port}`)
      return await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({host, port, ...(onread !== undefined ? {onread} : {})}, () => resolve(s))
        s.once('error', reject)
      })
    },
    trackTunnel: (destroy: () => void) => {
      live.add(destroy)
      return () => {
        live.delete(destroy)
        untracked()
      }
    },
    activeTunnels: () => live.size,
    relayBuffers: undefined,
    interceptor: null,
    interceptionUnavailable: () => false,
  })
  const echo = net.createServer((s) => s.pipe(s))
  const proxy = http.createServer()
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    void handleConnect(ports, {req, client, head, b: base('connect', 'CONNECT')})
  })
  const echoPort = await listen(echo)
  const port = await listen(proxy)
  try {
    const sock = net.connect(port, '127.0.0.1')
    let got = ''
    const echoed = new Promise<void>((resolve) => {
      sock.on('data', (c: Buffer) => {
        got += c.toString('latin1')
        if (got.endsWith('ping')) resolve()
      })
    })
    sock.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1:${echoPort}\r\n\r\n`)
    sock.once('data', () => sock.write('ping'))
    await echoed
    assert.equal(got, 'HTTP/1.1 200 Connection Established\r\n\r\nping')
    assert.deepEqual(dials, [`127.0.0.1:${echoPort}`])
    assert.equal(live.size, 1)
    assert.deepEqual(decisions.map((d) => [d.transport, d.verdict, d.target]), [['connect', 'allow', `127.0.0.1:${echoPort}`]])
    sock.destroy()
    await closed
    assert.equal(live.size, 0)
  } finally {
    for (const destroy of [...live]) destroy()
    await close(proxy)
    await close(echo)
  }
})
