// The forward proxy's per-request helpers rewritten for speed (issue 18, branch relay), each
// against the expression it replaced, kept here as the oracle.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {ContractContext} from '../../../src/plugins/gate/index.js'
import {withRequestFields, type Decision} from '../../../src/plugins/proxy/decision.js'
import type {ExceptionUse} from '../../../src/plugins/proxy/exception-rules.js'
import {bufferedResponseHeaders, inboundResponseHeaders} from '../../../src/plugins/proxy/header-hygiene.js'
import {sniffMediaType} from '../../../src/plugins/proxy/media-policy.js'
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
    {'content-type': 'text/plain', connection: 'keep-alive, X-Hop', 'x-hop': 'gone', 'proxy-authenticate': 'Basic', 'x-pipelock-block-reason': 'dlp_match'},
  ]
  for (const h of cases) {
    for (const n of [0, 7, 1024]) {
      const old = inboundResponseHeaders(h)
      // Content-Length in any case: the buffered answer carries exactly one, its own.
      for (const k of Object.keys(old)) if (k.toLowerCase() === 'content-length') delete old[k]
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

/** sniffMediaType as first written (slices and latin1 strings): the oracle. */
function sniffOracle(body: Buffer): string {
  const b = body.subarray(0, 512)
  const starts = (sig: number[], at = 0): boolean => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x)
  const l = (from: number, to: number): string => b.subarray(from, to).toString('latin1')
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png'
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg'
  if (l(0, 6) === 'GIF87a' || l(0, 6) === 'GIF89a') return 'image/gif'
  if (l(0, 4) === 'RIFF' && l(8, 12) === 'WEBP') return 'image/webp'
  if (l(0, 4) === 'RIFF' && l(8, 12) === 'WAVE') return 'audio/wave'
  if (l(0, 4) === 'RIFF' && l(8, 12) === 'AVI ') return 'video/avi'
  if (starts([0x42, 0x4d])) return 'image/bmp'
  if (starts([0x00, 0x00, 0x01, 0x00]) || starts([0x00, 0x00, 0x02, 0x00])) return 'image/x-icon'
  if (l(0, 3) === 'ID3') return 'audio/mpeg'
  if (l(0, 4) === 'OggS') return 'application/ogg'
  if (l(0, 4) === 'fLaC') return 'audio/flac'
  if (starts([0x1a, 0x45, 0xdf, 0xa3])) return 'video/webm'
  if (b.length >= 12 && l(4, 8) === 'ftyp') return 'video/mp4'
  if (l(0, 5) === '%PDF-') return 'application/pdf'
  if (starts([0x50, 0x4b, 0x03, 0x04])) return 'application/zip'
  if (starts([0x1f, 0x8b, 0x08])) return 'application/x-gzip'
  for (const c of b) if (c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f)) return 'application/octet-stream'
  return 'text/plain; charset=utf-8'
}

test('sniffMediaType compares bytes in place and answers as the slicing version did', () => {
  const heads = ['', 'GIF87a', 'GIF89a', 'GIF8', 'RIFF\0\0\0\0WEBP', 'RIFF\0\0\0\0WAVE', 'RIFF\0\0\0\0AVI ', 'RIFF\0\0\0\0AVI', 'ID3', 'OggS', 'fLaC', '\0\0\0\x18ftypisom', '\0\0\0\x18ftyp', '%PDF-1.7', '%PDF', 'BM', 'hello world\n', 'text\x1bwith escape']
  const bins = [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0xff, 0xd8, 0xff], [0x00, 0x00, 0x01, 0x00], [0x00, 0x00, 0x02, 0x00], [0x1a, 0x45, 0xdf, 0xa3], [0x50, 0x4b, 0x03, 0x04], [0x1f, 0x8b, 0x08]]
  const bodies: Buffer[] = [...heads.map((h) => Buffer.from(h, 'latin1')), ...bins.map((x) => Buffer.from(x))]
  for (const h of [...bodies]) for (const tail of [Buffer.from('plain text after'), Buffer.alloc(600, 0x41), Buffer.from([0x07])]) bodies.push(Buffer.concat([h, tail]))
  // Random bodies, and control bytes past the first 512 (not sniffed).
  let seed = 7
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff
  for (let i = 0; i < 2000; i++) bodies.push(Buffer.from(Array.from({length: rnd() * 3}, () => (i % 2 === 0 ? 0x20 + (rnd() % 95) : rnd()))))
  bodies.push(Buffer.concat([Buffer.alloc(512, 0x61), Buffer.from([0x01])]), Buffer.from(Array.from({length: 1024}, (_, i) => i & 0xff)))
  for (const b of bodies) assert.equal(sniffMediaType(b), sniffOracle(b), JSON.stringify(b.subarray(0, 16).toString('latin1')))
})
