// The forward proxy's per-request helpers rewritten for speed (issue 18, branch relay), each
// against the expression it replaced, kept here as the oracle.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {ContractContext} from '../../../src/plugins/gate/index.js'
import {withRequestFields, type Decision} from '../../../src/plugins/proxy/decision.js'
import type {ExceptionUse} from '../../../src/plugins/proxy/exception-rules.js'
import {bufferedResponseHeaders, inboundResponseHeaders} from '../../../src/plugins/proxy/header-hygiene.js'
import {ProxyMetrics} from '../../../src/plugins/proxy/metrics.js'

const base: Decision = {
  requestId: 'req-1', transport: 'forward', method: 'GET', agent: 'claude', clientIp: '127.0.0.1', sessionKey: 'claude|127.0.0.1', profile: '_default',
  durationMs: 1.25, target: 'http://example.com/a', verdict: 'allow', stage: 'none', layer: 'all', reason: null, severity: null, retry: null, class: null,
  detail: 'allowed', status: 200, warnings: ['AWS Key'], bytes: 12,
}
const contract = {mode: 'live', winningSource: 'contract:r1', liveVerdict: 'allow'} as unknown as ContractContext
const otherContract = {mode: 'shadow', winningSource: 'scanner', liveVerdict: 'block'} as unknown as ContractContext
const exception = {id: 'ex-1', rule: 'r', layer: 'dlp', reason: 'dlp_match', usesLeft: 1, expiresAt: 'x', grantedBy: 'op', grantReason: 'why'} as unknown as ExceptionUse

/** What the record step built before (request-gate.ts): spreads. */
function spreadOracle(d: Decision, url: string, c: ContractContext | undefined, x: ExceptionUse | undefined): Decision {
  let full: Decision = {...d, url, ...(c !== undefined ? {contract: c} : {})}
  if (x !== undefined) full = {...full, exception: x}
  return full
}

test('withRequestFields gives the spread its record step used: every optional field present or absent as in the input', () => {
  const variants: Decision[] = []
  const {profile: _p, ...noProfile} = base
  for (const d of [base, noProfile as Decision]) {
    for (const extra of [{}, {hint: 'try again later'}, {hint: undefined}, {url: 'http://old/'}, {contract: otherContract}, {exception}, {hint: 'h', contract: otherContract, exception}]) {
      variants.push({...d, ...extra} as Decision)
    }
  }
  variants.push({...base, verdict: 'block', stage: 'url_scan', layer: 'dlp', reason: 'dlp_match', severity: 'critical', retry: null, class: 'threat', status: 403} as Decision)
  let n = 0
  for (const d of variants) {
    for (const c of [undefined, contract]) {
      for (const x of [undefined, exception]) {
        const got = withRequestFields(d, 'http://example.com/a?k=1', c, x)
        assert.deepStrictEqual(got, spreadOracle(d, 'http://example.com/a?k=1', c, x))
        assert.deepStrictEqual(Object.keys(got).sort(), Object.keys(spreadOracle(d, 'http://example.com/a?k=1', c, x)).sort())
        n++
      }
    }
  }
  assert.equal(n, variants.length * 4)
})

test('bufferedResponseHeaders equals inboundResponseHeaders, delete content-length, then content-length last', () => {
  const cases: Array<Record<string, string | string[] | undefined>> = [
    {'content-type': 'application/octet-stream', 'content-length': '1024', date: 'Mon, 23 Nov 2026 00:00:00 GMT', connection: 'keep-alive', 'keep-alive': 'timeout=5'},
    {'set-cookie': ['a=1', 'b=2'], 'transfer-encoding': 'chunked', trailer: 'x', 'x-empty': undefined, upgrade: 'h2c', te: 'trailers', 'proxy-connection': 'close'},
    {},
    {'Content-Length': '5', 'X-Mixed': 'Case', Connection: 'close'},
  ]
  for (const h of cases) {
    for (const n of [0, 7, 1024]) {
      const old = inboundResponseHeaders(h)
      delete old['content-length']
      const expected = {...old, 'content-length': String(n)}
      const got = bufferedResponseHeaders(h, n)
      assert.deepStrictEqual(got, expected)
      assert.deepStrictEqual(Object.keys(got), Object.keys(expected), 'same order')
    }
  }
})

test('pipelock_requests_total: the cached series keys render the same series as the labels did', () => {
  const m = new ProxyMetrics('1.2.3', 0, () => 0, {killSwitchSources: () => ({}), activeTunnels: () => 0})
  const decide = (verdict: Decision['verdict'], profile: string): Decision => ({...base, verdict, profile, warnings: [], ...(verdict === 'block' ? {stage: 'url_scan', layer: 'dlp'} : {})}) as Decision
  for (const [v, p] of [['allow', '_default'], ['allow', '_default'], ['block', '_default'], ['allow', 'ci "bot"\\x'], ['block', 'ci "bot"\\x']] as const) m.record(decide(v, p))
  const out: string[] = []
  m.requests.render(out)
  assert.deepStrictEqual(out.filter((l) => !l.startsWith('#')), [
    'pipelock_requests_total{agent="_default",result="allowed"} 2',
    'pipelock_requests_total{agent="_default",result="blocked"} 1',
    'pipelock_requests_total{agent="ci \\"bot\\"\\\\x",result="allowed"} 1',
    'pipelock_requests_total{agent="ci \\"bot\\"\\\\x",result="blocked"} 1',
  ])
})
