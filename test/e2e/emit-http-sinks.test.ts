/**
 * Event emission to real HTTP receivers on 127.0.0.1 (operations.md §10.2): an in-test webhook
 * server and an in-test OTLP/HTTP receiver that decodes the protobuf body with protobufjs. The
 * proxy is the built CLI; events are caused by real requests through it.
 */
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {gunzipSync} from 'node:zlib'
import {freePort, rawHttp, startProxy, until, type RunningProxy} from './proxy-harness.js'
import {decodeOne, type DecodedRecord} from '../unit/emit/otlp-proto.js'

interface Received {
  readonly path: string
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

interface Receiver {
  readonly port: number
  readonly got: Received[]
  /** Called per request: respond with a status, or return null to hold the request (released by `releaseAll`). */
  respond: (r: Received, index: number) => number | null
  releaseAll(): void
  close(): Promise<void>
}

async function startReceiver(): Promise<Receiver> {
  const held: http.ServerResponse[] = []
  const got: Received[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = {path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks)}
      got.push(r)
      const status = rec.respond(r, got.length - 1)
      if (status === null) held.push(res)
      else res.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const rec: Receiver = {
    port: (server.address() as AddressInfo).port,
    got,
    respond: () => 200,
    releaseAll: () => {
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200).end()
    },
    close: async () => {
      rec.releaseAll()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return rec
}

const cleanups: Array<() => Promise<unknown>> = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

async function blockRequest(p: RunningProxy, n: number): Promise<void> {
  const r = await rawHttp(p.port, {path: `/fetch?url=${encodeURIComponent(`https://pastebin.com/raw/e${n}`)}`})
  assert.equal(r.status, 403)
}

async function metric(port: number, name: string): Promise<number> {
  const r = await rawHttp(port, {path: '/metrics'})
  const line = r.body.split('\n').find((l) => l.startsWith(name + ' ') || l.startsWith(name + '{') && l.slice(0, l.lastIndexOf(' ')) === name)
  return line === undefined ? Number.NaN : Number(line.slice(line.lastIndexOf(' ') + 1))
}

test('webhook: one POST per event with bearer token and JSON body; 5xx is not retried; HTTP(S)_PROXY is ignored', async () => {
  const rec = await startReceiver()
  cleanups.push(() => rec.close())
  rec.respond = (_r, i) => (i === 1 ? 503 : 200)
  const p = await startProxy([
    'emit:', '  instance_id: build-01', `  webhook: {url: "http://127.0.0.1:${rec.port}/hook?x=1", auth_token: t0ken, min_severity: warn}`,
  ].join('\n') + '\n', {env: {HTTP_PROXY: 'http://127.0.0.1:9', HTTPS_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9'}})
  cleanups.push(() => p.stop())
  assert.match(p.stderr(), /pipelock: emit: webhook \(instance build-01\)/)
  await blockRequest(p, 1)
  assert.ok(await until(async () => rec.got.length === 1, 5000))
  await blockRequest(p, 2)
  await blockRequest(p, 3)
  assert.ok(await until(async () => rec.got.length === 3, 5000))
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(rec.got.length, 3) // the 503 was not retried
  const first = rec.got[0]!
  assert.equal(first.path, '/hook?x=1')
  assert.equal(first.headers.authorization, 'Bearer t0ken')
  assert.equal(first.headers['content-type'], 'application/json')
  assert.match(String(first.headers['user-agent']), /^pipelock\//)
  const doc = JSON.parse(first.body.toString('utf8')) as {severity: string; type: string; timestamp: string; pipelock_instance: string; fields: Record<string, unknown>}
  assert.deepEqual(Object.keys(doc), ['severity', 'type', 'timestamp', 'pipelock_instance', 'fields'])
  assert.equal(doc.severity, 'warn')
  assert.equal(doc.type, 'blocked')
  assert.equal(doc.pipelock_instance, 'build-01')
  assert.match(doc.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
  assert.equal(doc.fields.scanner, 'blocklist')
  assert.equal(doc.fields.url, 'https://pastebin.com/raw/e1')
  assert.deepEqual(Object.keys(doc.fields), Object.keys(doc.fields).sort())
  assert.match(p.stderr(), /emit: webhook returned HTTP 503 for event blocked/)
  assert.ok(!p.stdout().includes('t0ken') && !p.stderr().includes('t0ken'))
})

test('webhook: a stalled receiver keeps queue_size (+1 in flight), counts the rest, never slows requests; a timeout frees the queue; shutdown drains', async () => {
  const rec = await startReceiver()
  cleanups.push(() => rec.close())
  rec.respond = () => null // hold every request
  const metricsPort = await freePort()
  const p = await startProxy([
    `metrics_listen: 127.0.0.1:${metricsPort}`,
    'emit:', `  webhook: {url: "http://127.0.0.1:${rec.port}/", min_severity: warn, queue_size: 3, timeout_seconds: 2}`,
  ].join('\n') + '\n')
  cleanups.push(() => p.stop())
  for (let i = 0; i < 20; i++) await blockRequest(p, i) // each answered while the sink is stalled
  assert.ok(await until(async () => rec.got.length === 1, 3000))
  assert.equal(await metric(metricsPort, 'pipelock_emit_events_dropped_total{reason="queue_full",sink="webhook"}'), 16)
  assert.equal(await metric(metricsPort, 'pipelock_emit_queue_depth{sink="webhook"}'), 3)
  // the held request times out after 2 s: send_failed, and the next queued event goes out
  assert.ok(await until(async () => rec.got.length >= 2, 5000))
  assert.match(p.stderr(), /emit: webhook send error: timeout/)
  rec.respond = () => 200
  rec.releaseAll()
  assert.ok(await until(async () => (await metric(metricsPort, 'pipelock_emit_queue_depth{sink="webhook"}')) === 0, 8000))
  assert.ok((await metric(metricsPort, 'pipelock_emit_events_dropped_total{reason="send_failed",sink="webhook"}')) >= 1)
  // shutdown drain: events queued behind a slow receiver are still delivered before exit
  rec.respond = () => null
  const before = rec.got.length
  for (let i = 100; i < 103; i++) await blockRequest(p, i)
  const releaser = setInterval(() => rec.releaseAll(), 100)
  const code = await p.stop()
  clearInterval(releaser)
  assert.equal(code, 0)
  const urls = rec.got.slice(before).map((r) => (JSON.parse(r.body.toString('utf8')) as {fields: {url: string}}).fields.url)
  assert.deepEqual(urls, ['https://pastebin.com/raw/e100', 'https://pastebin.com/raw/e101', 'https://pastebin.com/raw/e102'])
})

test('OTLP: protobuf records decoded by protobufjs, gzip, custom headers, endpoint forms, retry schedule 503,503,200 / 500 / 429×3', async () => {
  const rec = await startReceiver()
  cleanups.push(() => rec.close())
  const script = [503, 503, 200, 500, 429, 429, 429, 200]
  rec.respond = (_r, i) => script[i] ?? 200
  const metricsPort = await freePort()
  const p = await startProxy([
    `metrics_listen: 127.0.0.1:${metricsPort}`,
    'emit:', '  instance_id: otel-1',
    `  otlp: {endpoint: "http://127.0.0.1:${rec.port}/prefix/v1/logs/", gzip: true, headers: {X-Tenant: acme, Content-Type: text/plain}, agent_threat_detection_emit: true}`,
  ].join('\n') + '\n')
  cleanups.push(() => p.stop())
  const t0 = Date.now()
  await blockRequest(p, 1)
  assert.ok(await until(async () => rec.got.length === 3, 6000))
  const elapsed = Date.now() - t0
  assert.ok(elapsed >= 2900, `delivered after ${elapsed} ms: the retries wait 1 s then 2 s`)
  await blockRequest(p, 2) // 500: one attempt
  assert.ok(await until(async () => rec.got.length === 4, 4000))
  await blockRequest(p, 3) // 429 ×3: dropped
  assert.ok(await until(async () => rec.got.length === 7, 6000))
  await blockRequest(p, 4)
  assert.ok(await until(async () => rec.got.length === 8, 4000))
  assert.ok(await until(async () => (await metric(metricsPort, 'pipelock_emit_events_sent_total{sink="otlp"}')) === 2, 3000))
  assert.equal(await metric(metricsPort, 'pipelock_emit_events_dropped_total{reason="send_failed",sink="otlp"}'), 2)
  assert.match(p.stderr(), /emit: otlp HTTP 500 \(not retryable\)/)
  assert.match(p.stderr(), /emit: otlp HTTP 429 after 3 retries/)
  for (const r of rec.got) {
    assert.equal(r.path, '/prefix/v1/logs')
    assert.equal(r.headers['content-type'], 'application/x-protobuf')
    assert.equal(r.headers['content-encoding'], 'gzip')
    assert.equal(r.headers['x-tenant'], 'acme')
  }
  const records: DecodedRecord[] = rec.got.map((r) => decodeOne(gunzipSync(r.body)))
  const last = records[7]!
  assert.equal(last.body, 'blocked')
  assert.deepEqual([last.severityNumber, last.severityText], [13, 'WARN'])
  assert.equal(last.resource['service.name'], 'pipelock')
  assert.equal(last.attributes['pipelock.instance'], 'otel-1')
  assert.equal(last.attributes.url, 'https://pastebin.com/raw/e4')
  assert.equal(last.attributes.status_code, '403')
  assert.equal(last.attributes['agent.threat.detection.rule_id'], 'blocklist')
  assert.equal(last.attributes['agent.threat.detection.action'], 'block')
  assert.equal(last.attributes['agent.threat.detection.correlation_id'], last.attributes.request_id)
  assert.equal(last.time, last.observed)
  const ns = BigInt(last.time)
  assert.ok(ns > BigInt(t0) * 1_000_000n && ns < BigInt(Date.now()) * 1_000_000n)
})

test('OTLP endpoint forms: host:port, trailing slash and /v1/logs all post to /v1/logs', async () => {
  const rec = await startReceiver()
  cleanups.push(() => rec.close())
  for (const suffix of ['', '/', '/v1/logs']) {
    const p = await startProxy(['emit:', `  otlp: {endpoint: "http://127.0.0.1:${rec.port}${suffix}"}`].join('\n') + '\n')
    await blockRequest(p, 0)
    assert.equal(await p.stop(), 0) // shutdown drains the queued event
  }
  assert.deepEqual(rec.got.map((r) => r.path), ['/v1/logs', '/v1/logs', '/v1/logs'])
  assert.equal(rec.got[0]!.headers['content-encoding'], undefined)
  assert.equal(decodeOne(rec.got[0]!.body).body, 'blocked')
})
