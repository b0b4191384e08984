// The settle stages of the request gate (docs/architecture.md, "The gate"): a stage states a
// finding and the settle stages end it before the next stage — `exception` waives an enforced
// block with a matching grant (one per request), `mode` answers it, or in audit mode records the
// would-block and lets the request go on without spending a grant — and the suppression stage
// hands the body stage the request's suppressor, so a suppressed finding leaves no finding.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {test} from 'node:test'
import {systemClock} from '../../../src/plugins/canonical/index.js'
import {loadConfig} from '../../../src/plugins/config/load.js'
import {KillSwitchController} from '../../../src/plugins/killswitch/index.js'
import {AuditLog} from '../../../src/plugins/proxy/audit-log.js'
import {blockDecision, type DecisionBase} from '../../../src/plugins/proxy/core.js'
import type {Decision} from '../../../src/plugins/proxy/decision.js'
import {ExceptionStore} from '../../../src/plugins/proxy/exception-store.js'
import type {Finding, GatePorts, RequestGateContext, Stage, StageId} from '../../../src/plugins/proxy/gate/context.js'
import {SETTLE_ORDER} from '../../../src/plugins/proxy/gate/order.js'
import {runStages, settleWith} from '../../../src/plugins/proxy/gate/run-gate.js'
import {bodyStage} from '../../../src/plugins/proxy/gate/stages/body.js'
import {suppressionStage} from '../../../src/plugins/proxy/gate/stages/suppression.js'
import {isSkip, SETTLE_STAGES, settleStagesFor} from '../../../src/plugins/proxy/gate/transport-stages.js'
import {sessionKey} from '../../../src/plugins/proxy/identity.js'
import {ProxyMetrics} from '../../../src/plugins/proxy/metrics.js'
import {RequestRecord, type Block} from '../../../src/plugins/proxy/request-gate.js'
import {ResponseTransformState} from '../../../src/plugins/proxy/relay/response-transforms.js'
import {buildSnapshot, type ProxySnapshot} from '../../../src/plugins/proxy/state.js'
import {RequestSuppression} from '../../../src/plugins/proxy/suppression.js'
import {tempDir} from '../../e2e/proxy-harness.js'
import {AWS_KEY} from '../mcp/helpers.js'

interface Gate {
  readonly ports: GatePorts
  readonly snap: ProxySnapshot
  readonly decisions: Decision[]
  readonly events: Array<{type: string; fields: Readonly<Record<string, unknown>>}>
  readonly store: ExceptionStore
}

/** The gate's ports from real parts (audit log, metrics, exception store) of a config; Decisions land in `decisions`. */
function gate(yaml: string[]): Gate {
  const dir = tempDir()
  const file = path.join(dir, 'pipelock.yaml')
  writeFileSync(file, [...yaml, 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]'].join('\n') + '\n')
  const loaded = loadConfig(file)
  const snap = buildSnapshot(loaded.config, loaded.hash, {}, systemClock)
  const nowMs = (): number => Number(systemClock.nowNanos() / 1_000_000n)
  const decisions: Decision[] = []
  const events: Gate['events'] = []
  const audit = new AuditLog([], {includeAllowed: false, includeBlocked: false, now: () => new Date()})
  audit.setTap({emit: (type, fields) => events.push({type, fields})})
  const killSwitch = new KillSwitchController({enabled: false, sentinelFile: '', message: 'stopped by the test'})
  const metrics = new ProxyMetrics('test', nowMs(), nowMs, {killSwitchSources: () => killSwitch.status().sources, activeTunnels: () => 0, sessions: () => null, crossRequest: () => null})
  let n = 0
  const store = new ExceptionStore({dir, nowMs, newId: () => `exc-${String(++n).padStart(12, '0')}`})
  const ports: GatePorts = {
    snapshot: () => snap, nowMs, audit, metrics, killSwitch, trackStream: () => () => undefined, approvals: undefined, transforms: new ResponseTransformState(),
    sink: {record: (d) => (decisions.push(d), `receipt-${decisions.length}`)}, contracts: null, exceptions: store,
  }
  return {ports, snap, decisions, events, store}
}

let requests = 0

/** One request's gate context, its block answer recording the Decision first (as every transport's does). */
function request(g: Gate, target: string, o: {req?: http.IncomingMessage; method?: string; suppression?: boolean} = {}): {ctx: RequestGateContext; answered: Block[]} {
  const method = o.method ?? 'GET'
  const b: DecisionBase = {requestId: `req-${++requests}`, transport: 'forward', method, agent: 'anonymous', clientIp: '127.0.0.1', sessionKey: sessionKey('anonymous', '127.0.0.1'), startMs: 0}
  const rec = new RequestRecord(g.ports, {sessions: null, b, url: target})
  const answered: Block[] = []
  const ctx: RequestGateContext = {
    ports: g.ports, snap: g.snap, b, rec, req: o.req ?? ({headers: {}} as http.IncomingMessage), warnings: [], method, target, contractUrl: target,
    block: (a) => {
      answered.push(a)
      rec.record(blockDecision(g.ports, b, target, {stage: a.stage, layer: a.layer, ...(a.reason ? {reason: a.reason} : {}), detail: a.detail, status: a.status, enforced: true}))
    },
    shownAs: () => target, airlock: 'forward', scan: null, shown: target, sessionHost: '', body: null,
    ...(o.suppression === true ? {suppression: new RequestSuppression(g.ports, g.snap, b)} : {}),
  }
  return {ctx, answered}
}

const TOKEN_BLOCK: Block = {stage: 'header_dlp', layer: 'header_dlp', detail: 'DLP match in Authorization header: GitHub Token', status: 403, reason: 'dlp_match'}
const TOKEN: Finding = {block: TOKEN_BLOCK, waivable: {layer: 'header_dlp', reason: 'dlp_match', findings: [{pattern: 'GitHub Token'}]}, mode: 'record'}

/** A stage that states `finding`, and one that only notes it ran. */
const finds = (id: StageId, finding: Finding): Stage => ({id, run: (ctx) => ((ctx.finding = finding), false)})
const reached = (ran: string[]): Stage => ({id: 'budget', run: () => (ran.push('budget'), false)})

const settle = settleWith(settleStagesFor(SETTLE_STAGES.forward))
const URL = 'https://api.github.com/repos/acme/docs'

test('every HTTP transport settles findings with the exception waiver, then the mode', () => {
  assert.deepEqual(SETTLE_ORDER, ['exception', 'mode'])
  for (const [transport, row] of Object.entries(SETTLE_STAGES)) {
    assert.deepEqual(Object.keys(row).sort(), [...SETTLE_ORDER].sort(), transport)
    for (const id of SETTLE_ORDER) assert.ok(!isSkip(row[id]) && row[id].id === id, `${transport} runs ${id}`)
  }
})

test('a finding is waived once by a one-use grant, then blocked; one waiver per request', async () => {
  const g = gate([])
  const grant = g.store.grant({host: 'api.github.com', pattern: 'GitHub Token', uses: 1, granted_by: 'alice', reason: 'fixture token'})
  assert.ok(grant.ok)
  const ran: string[] = []

  const first = request(g, URL)
  assert.equal(await runStages([finds('header_dlp', TOKEN), reached(ran)], first.ctx, settle), false)
  assert.deepEqual(ran, ['budget'], 'the waived request goes on through the rest of the order')
  assert.deepEqual(first.answered, [])
  assert.equal(first.ctx.rec.exception?.id, grant.exception.id, 'the use rides on the request\'s next Decision')
  assert.equal(first.ctx.finding, undefined)

  const second = request(g, URL)
  assert.equal(await runStages([finds('header_dlp', TOKEN), reached(ran)], second.ctx, settle), true)
  assert.deepEqual(ran, ['budget'], 'the blocked request stops at its finding')
  assert.deepEqual(second.answered, [TOKEN_BLOCK])
  assert.deepEqual(g.decisions.map((d) => [d.verdict, d.stage, d.layer, d.status]), [['block', 'header_dlp', 'header_dlp', 403]])

  // A two-use grant still waives one finding per request: the request's second finding stands.
  const g2 = gate([])
  assert.ok(g2.store.grant({host: 'api.github.com', uses: 2, granted_by: 'alice', reason: 'fixture token'}).ok)
  const both = request(g2, URL)
  const url = {...TOKEN, block: {...TOKEN_BLOCK, stage: 'url_scan' as const, layer: 'dlp'}, waivable: {layer: 'dlp', reason: 'dlp_match', findings: [{pattern: 'GitHub Token'}]}}
  assert.equal(await runStages([finds('url_scan', url), finds('header_dlp', TOKEN), reached(ran)], both.ctx, settle), true)
  assert.deepEqual(both.answered, [TOKEN_BLOCK])
  assert.equal(g2.store.list()[0]!.uses_left, 1)
})

test('audit mode records the would-block and never spends a grant; a refusal stands in every mode', async () => {
  const g = gate(['enforce: false'])
  assert.ok(g.store.grant({host: 'api.github.com', uses: 1, granted_by: 'alice', reason: 'fixture token'}).ok)
  const ran: string[] = []
  const passedAt: string[] = []
  const r = request(g, URL)
  const finding: Finding = {...TOKEN, passed: () => passedAt.push(`passed with ${g.decisions.length} Decisions`)}
  assert.equal(await runStages([finds('header_dlp', finding), reached(ran)], r.ctx, settle), false)
  assert.deepEqual(ran, ['budget'])
  assert.deepEqual(r.answered, [])
  assert.equal(g.store.list()[0]!.uses_left, 1, 'audit mode never spends a grant')
  assert.equal(r.ctx.rec.exception, undefined)
  assert.deepEqual(passedAt, ['passed with 0 Decisions'])
  r.ctx.rec.flush()
  assert.deepEqual(g.decisions.map((d) => [d.verdict, d.stage, d.layer, d.reason, d.status, d.target]), [['would_block', 'header_dlp', 'header_dlp', 'dlp_match', 0, URL]])

  const refused = request(g, URL)
  const unreadable: Finding = {block: {...TOKEN_BLOCK, detail: 'request headers could not be scanned'}, mode: 'stands'}
  assert.equal(await runStages([finds('header_dlp', unreadable), reached(ran)], refused.ctx, settle), true)
  assert.deepEqual(refused.answered.map((a) => a.detail), ['request headers could not be scanned'])
})

test('what the scanner already answered as a warning is recorded in audit mode only; the stage\'s rest runs after the settle', async () => {
  const order: string[] = []
  const unenforced: Finding = {block: TOKEN_BLOCK, mode: 'unenforced', rest: (ctx) => (order.push(`rest, finding ${ctx.finding === undefined ? 'settled' : 'pending'}`), false)}
  for (const [yaml, recorded] of [[[], []], [['enforce: false'], ['would_block']]] as const) {
    const g = gate([...yaml])
    const r = request(g, URL)
    assert.equal(await runStages([finds('body', unenforced), reached(order)], r.ctx, settle), false)
    r.ctx.rec.flush()
    assert.deepEqual(g.decisions.map((d) => d.verdict), recorded)
  }
  assert.deepEqual(order, ['rest, finding settled', 'budget', 'rest, finding settled', 'budget'])
})

/** A real listener: each request runs [suppression, body] with the settle stages over `g`. */
async function bodyGate(g: Gate, each: (r: ReturnType<typeof request>, answered: boolean) => void): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer((req, res) => {
    const r = request(g, `http://127.0.0.1:${(server.address() as AddressInfo).port}${req.url}`, {req, method: 'POST', suppression: true})
    void Promise.resolve(runStages([suppressionStage, bodyStage], r.ctx, settle)).then((answered) => {
      each(r, answered)
      res.end(answered ? 'blocked' : 'passed')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve()))}
}

test('the suppression stage hands the body stage its suppressor: a suppressed finding leaves no finding, audited once and counted', async () => {
  const g = gate(['suppress:', '  - rule: AWS Access ID', '    path: kib-ok', '    reason: docs fixture token'])
  const seen: Array<[string, boolean, string[]]> = []
  const server = await bodyGate(g, (r, answered) => seen.push([r.ctx.target.replace(/^.*\//, ''), answered, r.answered.map((a) => `${a.stage}/${a.layer}`)]))
  try {
    for (const p of ['kib-ok', 'kib-ok', 'kib-other']) {
      const res = await fetch(`http://127.0.0.1:${server.port}/${p}`, {method: 'POST', body: `fixture: ${AWS_KEY} and again ${AWS_KEY}`, headers: {'content-type': 'text/plain'}})
      assert.equal(await res.text(), p === 'kib-ok' ? 'passed' : 'blocked')
    }
  } finally {
    await server.close()
  }
  assert.deepEqual(seen, [['kib-ok', false, []], ['kib-ok', false, []], ['kib-other', true, ['body_scan/body_dlp']]])
  const suppressed = g.events.filter((e) => e.type === 'finding_suppressed')
  assert.equal(suppressed.length, 2, 'once per request and rule')
  for (const e of suppressed) assert.deepEqual([e.fields.rule, e.fields.surface, e.fields.reason, e.fields.suppress_index], ['AWS Access ID', 'body_dlp', 'docs fixture token', 0])
  const out: string[] = []
  g.ports.metrics.findingsSuppressed.render(out)
  assert.ok(out.includes('pipelock_findings_suppressed_total{rule="AWS Access ID",surface="body_dlp"} 2'), out.join('\n'))
  assert.deepEqual(g.decisions.map((d) => [d.verdict, d.layer]), [['block', 'body_dlp']])
})
