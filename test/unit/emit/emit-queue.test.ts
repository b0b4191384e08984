import assert from 'node:assert/strict'
import {test} from 'node:test'
import {buildEvent, Emitter, EmitStats, QueuedSink, RateLimitedLog, type SendOutcome, type SinkTransport} from '../../../src/plugins/emit/index.js'
import {AuditLog} from '../../../src/plugins/proxy/index.js'

/** A transport whose sends complete only when the test releases them. */
function gatedTransport(): {t: SinkTransport; sent: string[]; release: (o?: SendOutcome) => void; pending: () => number; disposed: () => boolean} {
  const waiters: Array<(o: SendOutcome) => void> = []
  const sent: string[] = []
  let disposed = false
  return {
    t: {
      send: (e) => new Promise<SendOutcome>((resolve) => waiters.push((o) => {
        sent.push(String(e.fields.n))
        resolve(o)
      })),
      dispose: async () => {
        disposed = true
      },
    },
    sent,
    release: (o = 'sent') => waiters.shift()?.(o),
    pending: () => waiters.length,
    disposed: () => disposed,
  }
}

const tick = () => new Promise((r) => setImmediate(r))
const ev = (n: number, type = 'blocked') => buildEvent(type, {n}, 1n, 'i')

test('queue: capacity kept plus one in flight, the newest dropped and counted, order preserved, rate-limited stderr', async () => {
  const stats = new EmitStats()
  const lines: string[] = []
  let now = 0
  const log = new RateLimitedLog((l) => lines.push(l), () => now)
  const g = gatedTransport()
  const q = new QueuedSink({name: 'webhook', minSeverity: 'info', capacity: 3, transport: g.t, stats, log})
  for (let i = 1; i <= 10; i++) q.offer(ev(i))
  await tick()
  assert.equal(g.pending(), 1) // one in flight
  assert.equal(q.depth(), 3)
  assert.equal(stats.droppedCount('webhook', 'queue_full'), 6)
  assert.deepEqual(lines, ['emit: sink error (event=blocked): emit: webhook queue full, event dropped'])
  now = 11_000
  q.offer(ev(11))
  assert.equal(lines[1], 'emit: sink error (event=blocked): emit: webhook queue full, event dropped (5 similar line(s) suppressed in the last 11s)')
  for (let i = 0; i < 4; i++) {
    g.release(i === 1 ? 'send_failed' : 'sent')
    await tick()
  }
  assert.deepEqual(g.sent, ['1', '2', '3', '4'])
  assert.equal(stats.sentCount('webhook'), 3)
  assert.equal(stats.droppedCount('webhook', 'send_failed'), 1)
  assert.equal(q.depth(), 0)
})

test('queue: min_severity filters before queueing (nothing counted)', async () => {
  const stats = new EmitStats()
  const g = gatedTransport()
  const q = new QueuedSink({name: 'otlp', minSeverity: 'warn', capacity: 1, transport: g.t, stats, log: new RateLimitedLog(() => undefined, () => 0)})
  q.offer(ev(1, 'allowed'))
  q.offer(ev(2, 'config_reload'))
  assert.equal(q.depth(), 0)
  assert.equal(g.pending(), 0)
  q.offer(ev(3, 'kill_switch_deny'))
  await tick()
  g.release()
  await tick()
  assert.deepEqual(g.sent, ['3'])
  assert.deepEqual(stats.droppedSamples(), [])
})

test('queue close: drains what is queued, later offers are dropped as closed, then disposes', async () => {
  const stats = new EmitStats()
  const g = gatedTransport()
  const q = new QueuedSink({name: 'syslog', minSeverity: 'info', capacity: 8, transport: g.t, stats, log: new RateLimitedLog(() => undefined, () => 0)})
  for (let i = 1; i <= 3; i++) q.offer(ev(i))
  const closing = q.close(5_000)
  q.offer(ev(4))
  assert.equal(stats.droppedCount('syslog', 'closed'), 1)
  for (let i = 0; i < 3; i++) {
    await tick()
    g.release()
  }
  await closing
  assert.deepEqual(g.sent, ['1', '2', '3'])
  assert.equal(stats.sentCount('syslog'), 3)
  assert.ok(g.disposed())
})

test('queue close: after the deadline what is left is counted as closed', async () => {
  const stats = new EmitStats()
  const g = gatedTransport()
  const q = new QueuedSink({name: 'webhook', minSeverity: 'info', capacity: 8, transport: g.t, stats, log: new RateLimitedLog(() => undefined, () => 0)})
  for (let i = 1; i <= 4; i++) q.offer(ev(i))
  await q.close(50) // the first send never completes
  assert.equal(stats.droppedCount('webhook', 'closed'), 3)
  assert.ok(g.disposed())
  g.release()
})

test('emitter: not-emitted types are never offered; a replaced sink set drains', async () => {
  const stats = new EmitStats()
  const g = gatedTransport()
  const sink = new QueuedSink({name: 'webhook', minSeverity: 'info', capacity: 8, transport: g.t, stats, log: new RateLimitedLog(() => undefined, () => 0)})
  const em = new Emitter([sink], {instance: 'i', nowNanos: () => 5n, stats})
  for (const t of ['redirect', 'ws_open', 'ws_close', 'startup', 'shutdown', 'agent_listener']) em.emit(t, {n: 0})
  em.emit('blocked', {n: 1})
  await tick()
  assert.equal(g.pending(), 1)
  const replaced = em.replace([])
  em.emit('blocked', {n: 2}) // goes nowhere: no sinks
  g.release()
  await replaced
  assert.deepEqual(g.sent, ['1'])
  assert.deepEqual(em.sinkNames(), [])
})

test('audit tap: blocked is emitted with include_blocked off; allowed-class events follow include_allowed; fields are sanitised copies', () => {
  const seen: Array<[string, Record<string, unknown>]> = []
  const out: string[] = []
  const log = new AuditLog([{write: (l) => out.push(l)}], {includeAllowed: false, includeBlocked: false, now: () => new Date(0)})
  log.setTap({emit: (t, f) => seen.push([t, {...f}])})
  const base = {
    requestId: 'req-1', transport: 'fetch', method: 'GET', target: 'https://x.example/\x1b[31mred', agent: 'a', clientIp: '127.0.0.1', sessionKey: 'a|127.0.0.1',
    stage: 'url_scan', layer: 'blocklist', reason: 'domain_blocklist', severity: null, retry: null, class: null, detail: 'domain blocked', status: 403,
    warnings: [], bytes: 0, durationMs: 1.5,
  } as const
  log.record({...base, verdict: 'block'})
  log.record({...base, verdict: 'allow', stage: 'none', layer: 'all', reason: null, status: 200})
  log.event('info', 'tunnel_close', 'tunnel closed', {target: 'x:443'})
  log.event('info', 'startup', 'pipelock started', {})
  log.event('warn', 'body_dlp', 'finding', {url: 'u'})
  log.flush()
  assert.deepEqual(seen.map(([t]) => t), ['blocked', 'startup', 'body_dlp']) // startup reaches the tap; the emitter drops it
  assert.equal(seen[0]![1].url, 'https://x.example/red')
  assert.equal(seen[0]![1].scanner, 'blocklist')
  assert.ok(!('level' in seen[0]![1]) && !('message' in seen[0]![1]))
  assert.ok(!out.join('').includes('"event":"blocked"')) // the local log stays silent
  log.setOptions({includeAllowed: true, includeBlocked: true, now: () => new Date(0)})
  log.event('info', 'tunnel_close', 'tunnel closed', {target: 'x:443'})
  assert.equal(seen.at(-1)![0], 'tunnel_close')
})
