import assert from 'node:assert/strict'
import {test} from 'node:test'
import {AuditLog, sanitiseLogString, type Decision} from '../../../src/plugins/proxy/index.js'

const fixed = () => new Date('2026-11-22T04:00:00.000Z')

function capture(opts: {includeAllowed?: boolean; includeBlocked?: boolean} = {}): {log: AuditLog; lines: () => Array<Record<string, unknown>>} {
  const out: string[] = []
  const log = new AuditLog([{write: (l) => out.push(l)}], {includeAllowed: opts.includeAllowed ?? true, includeBlocked: opts.includeBlocked ?? true, now: fixed})
  return {
    log,
    lines: () => {
      log.flush()
      return out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
    },
  }
}

const decision: Decision = {
  requestId: 'req-7', transport: 'forward', method: 'GET', target: 'http://pastebin.com/raw/x', agent: 'claude', clientIp: '127.0.0.1', sessionKey: 'claude|127.0.0.1',
  verdict: 'block', stage: 'url_scan', layer: 'blocklist', reason: 'domain_blocklist', severity: 'critical', retry: 'policy', class: 'threat',
  detail: 'domain blocked: pastebin.com matches *.pastebin.com', status: 403, warnings: [], bytes: 0, durationMs: 1.5,
}

test('audit lines: fixed envelope, event fields, one JSON object per line', () => {
  const {log, lines} = capture()
  log.record(decision)
  log.record({...decision, verdict: 'allow', layer: 'all', reason: null, status: 200, bytes: 10, target: 'http://example.com/'})
  const [blocked, allowed] = lines()
  assert.deepEqual(blocked, {
    level: 'warn', time: '2026-11-22T04:00:00.000Z', component: 'pipelock', event: 'blocked', message: 'request blocked', method: 'GET',
    url: 'http://pastebin.com/raw/x', client_ip: '127.0.0.1', request_id: 'req-7', agent: 'claude', scanner: 'blocklist',
    reason: 'domain blocked: pastebin.com matches *.pastebin.com', block_reason: 'domain_blocklist', status_code: 403,
  })
  assert.equal(allowed!.event, 'allowed')
  assert.equal(allowed!.size_bytes, 10)
})

test('include_allowed / include_blocked gate local logging; kill-switch denials and errors always log', () => {
  const {log, lines} = capture({includeAllowed: false, includeBlocked: false})
  log.record(decision)
  log.record({...decision, verdict: 'allow'})
  log.record({...decision, layer: 'kill_switch', reason: 'kill_switch_active'})
  log.record({...decision, verdict: 'error', layer: 'upstream', reason: null, status: 502})
  assert.deepEqual(lines().map((l) => l.event), ['kill_switch_deny', 'error'])
})

test('strings are sanitised: control characters and ANSI escapes removed', () => {
  assert.equal(sanitiseLogString('a\u001b[31mred\u001b[0m\r\nb\u0000c'), 'aredbc')
  const {log, lines} = capture()
  log.event('info', 'startup', 'x\u001b[2Jy', {nested: {v: 'p\nq'}})
  assert.equal(lines()[0]!.message, 'xy')
  assert.deepEqual(lines()[0]!.nested, {v: 'pq'})
})

test('lines of one turn go out in one write at the end of the turn; a burst flushes early', async () => {
  const writes: string[] = []
  const log = new AuditLog([{write: (l) => writes.push(l)}], {includeAllowed: true, includeBlocked: true, now: fixed})
  log.event('info', 'a', 'first')
  log.event('info', 'b', 'second')
  assert.equal(writes.length, 0)
  await new Promise((r) => setImmediate(r))
  assert.equal(writes.length, 1)
  assert.deepEqual(writes[0]!.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as {event: string}).event), ['a', 'b'])
  for (let i = 0; i < 300; i++) log.event('info', 'burst', String(i))
  assert.equal(writes.length, 2, 'the 256th pending line forces a write')
  log.flush()
  assert.equal(writes.join('').split('\n').filter(Boolean).length, 302)
  log.flush()
  assert.equal(writes.length, 3, 'flush with nothing pending writes nothing')
})

test('setWriters: lines already pending go to the old writers, the next ones to the new (text or JSON)', () => {
  const json: string[] = []
  const text: string[] = []
  const log = new AuditLog([{write: (l) => json.push(l)}], {includeAllowed: true, includeBlocked: true, now: fixed})
  log.event('info', 'before', 'pending when the writers change')
  log.setWriters([{write: (l) => text.push(l), format: (line) => `TEXT ${String(line.event)}\n`}])
  log.record({...decision, verdict: 'allow', layer: 'all', reason: null, status: 200, bytes: 10, target: 'http://example.com/'})
  log.event('info', 'after', 'logged after the change')
  log.flush()
  assert.deepEqual(json.join('').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as {event: string}).event), ['before'])
  assert.equal(text.join(''), 'TEXT allowed\nTEXT after\n')
})

test('an allowed request\'s line: the same bytes alone, after a warn line and after an exception line (forward and CONNECT)', () => {
  // The line of a request with nothing else to log and of one with warnings or a waiver are built
  // on two paths: both give these exact bytes (key order, JSON escaping, control characters and ANSI escapes removed).
  const exception = {id: 'ex-1', rule: 'r', layer: 'dlp', reason: 'dlp_match', usesLeft: 2, expiresAt: '2026-11-23T00:00:00Z', grantedBy: 'ops', grantReason: 'test'}
  const allowed: Decision = {
    ...decision, verdict: 'allow', layer: 'all', reason: null, status: 200, bytes: 10, durationMs: 1.2346,
    target: 'http://example.com/a"b\\c\u001b[31m\u2028d\r\n',
  }
  const want = (event: string, key: string, target: string): string =>
    `{"level":"info","time":"2026-11-22T04:00:00.000Z","component":"pipelock","event":"${event}","message":"request allowed","method":"GET",` +
    `"${key}":${target},"client_ip":"127.0.0.1","request_id":"req-7","agent":"claude","status_code":200,"size_bytes":10,"duration_ms":1.235}`
  const cases: Array<[Decision, string]> = [
    [allowed, want('allowed', 'url', '"http://example.com/a\\"b\\\\c\u2028d"')],
    [{...allowed, transport: 'connect', method: 'CONNECT', target: 'example.com:443'}, want('tunnel_open', 'target', '"example.com:443"').replace('"method":"GET"', '"method":"CONNECT"')],
  ]
  for (const [d, line] of cases) {
    for (const variant of [d, {...d, warnings: ['Some Warn Pattern']}, {...d, exception}]) {
      // With and without the emitter's tap connected (the proxy always connects it): the same
      // line, and the tap gets the line's event fields, sanitised, in the line's order.
      for (const tapped of [false, true]) {
        const out: string[] = []
        const events: Array<[string, Readonly<Record<string, unknown>>]> = []
        const log = new AuditLog([{write: (l) => out.push(l)}], {includeAllowed: true, includeBlocked: true, now: fixed})
        if (tapped) log.setTap({emit: (type, fields) => events.push([type, fields])})
        log.record(variant)
        log.flush()
        const lines = out.join('').split('\n').filter((l) => l !== '')
        assert.equal(lines.at(-1), line, JSON.stringify(variant))
        if (tapped) {
          const [type, fields] = events.at(-1)!
          const own = JSON.parse(line) as Record<string, unknown>
          assert.equal(type, own.event)
          for (const k of ['level', 'time', 'component', 'event', 'message']) delete own[k]
          assert.equal(JSON.stringify(fields), JSON.stringify(own))
        }
      }
    }
  }
})

test('learn_lock shadow: an allowed request the contract would refuse in live mode says so on its line', () => {
  const contract = {mode: 'shadow', winningSource: 'contract', liveVerdict: 'block', policySources: ['contract'], ruleId: '', reason: 'contract_default_deny', activeManifestHash: 'sha256:a', contractHash: 'sha256:b', selectorId: 's', generation: 1n} as const
  const allowed: Decision = {...decision, verdict: 'allow', layer: 'all', reason: null, status: 200, bytes: 10, target: 'http://127.0.0.3/admin', contract: contract as unknown as Decision['contract']}
  const {log, lines} = capture()
  log.record(allowed)
  log.record({...allowed, contract: {...contract, liveVerdict: 'allow', reason: ''} as unknown as Decision['contract']})
  const [would, plain] = lines()
  assert.equal(would!.message, 'request allowed (contract shadow: live would block)')
  assert.deepEqual([would!.contract_live_verdict, would!.contract_reason], ['block', 'contract_default_deny'])
  assert.equal(plain!.message, 'request allowed')
  assert.equal(plain!.contract_live_verdict, undefined)
})
