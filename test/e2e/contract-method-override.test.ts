import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {rawHttp, reverseListenPort, type RunningProxy, startProxy, tempDir} from './proxy-harness.js'

// A live contract judges every method a request asks the server to perform (forward and reverse
// proxy here; the contract stage is shared by every HTTP transport): a POST carrying
// X-HTTP-Method-Override (or `_method` in the query, a form or a multipart body) would be served as
// that method by Rails, Laravel, Symfony, Spring or Express's method-override. The contract of
// shop-agent allows only `POST /v1/cart/items` on 127.0.0.31 (port 80: a live contract blocks every
// other port, so this needs root, like the closed-loop test). Capture runs beside it: it records the
// overrides, and `learn shadow` replaying that capture against the same contract judges the
// requests as the live gate did.

const HOST = '127.0.0.31'
const ALLOWED = 'r-30c49a8016bfcecab817' // the golden's `POST /v1/cart/items` rule
const lab = makeLab()
const cand = writeCandidate(lab, 'post-only', 0, 'ci-compile', 'enforce', HOST, [ALLOWED])
const promoted = cli(promoteArgs(lab, cand.file, ['--environment-id', 'prod']))

interface Seen {
  readonly method: string
  readonly url: string
  readonly body: string
}

describe('learn_lock live: method overrides', {timeout: 90_000}, () => {
  let proxy: RunningProxy | undefined
  let upstream: http.Server | undefined
  const seen: Seen[] = []
  const capture = path.join(tempDir('pl-override-capture-'), 'capture')
  after(async () => {
    await proxy?.stop()
    upstream?.closeAllConnections()
    upstream?.close()
  })

  const post = (pathAndQuery: string, headers: Record<string, string> = {}, body = ''): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> =>
    rawHttp(proxy!.port, {method: 'POST', path: `http://${HOST}${pathAndQuery}`, headers: {'x-pipelock-agent': 'shop-agent', 'content-length': String(Buffer.byteLength(body)), ...headers}, body})

  it('set-up: upstream on port 80, the post-only contract promoted, the proxy with capture', async () => {
    assert.equal(promoted.code, 0, promoted.stderr)
    upstream = http.createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        seen.push({method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString()})
        res.end('ok')
      })
    })
    await new Promise<void>((resolve, reject) => {
      upstream!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${HOST}:80 (${e.code}); this test needs root to bind port 80`)))
      upstream!.listen(80, HOST, () => resolve())
    })
    proxy = await startProxy(['forward_proxy: {enabled: true}', `ssrf: {ip_allowlist: ["127.0.0.0/8"]}`, 'learn:', '  enabled: true', `  capture_dir: ${capture}`, ...learnLockLines(lab.store, lab.roster, lab.fp)].join('\n') + '\n', {
      args: ['--reverse-proxy', '--reverse-upstream', `http://${HOST}`, '--reverse-listen', '127.0.0.1:0'],
    })
  })

  it('the plain POST the contract allows reaches the upstream; an override naming POST itself too', async () => {
    assert.equal((await post('/v1/cart/items', {'content-type': 'application/json'}, '{"sku":1}')).status, 200)
    assert.equal((await post('/v1/cart/items', {'x-http-method-override': 'post'})).status, 200)
    assert.deepEqual(seen.map((s) => s.method), ['POST', 'POST'])
  })

  const refused: [string, string, Record<string, string>, string][] = [
    ['X-HTTP-Method-Override', '/v1/cart/items', {'x-http-method-override': 'DELETE'}, ''],
    ['X-HTTP-Method (a list)', '/v1/cart/items', {'x-http-method': 'PATCH, POST'}, ''],
    ['X-Method-Override, lower case', '/v1/cart/items', {'x-method-override': 'delete'}, ''],
    ['_method in the query', '/v1/cart/items?_method=DELETE', {}, ''],
    ['_method in a form body', '/v1/cart/items', {'content-type': 'application/x-www-form-urlencoded'}, 'sku=1&_method=delete'],
    ['_method as a multipart field', '/v1/cart/items', {'content-type': 'multipart/form-data; boundary=XyZ'}, '--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\nDELETE\r\n--XyZ--\r\n'],
    ['an override that is not a method token', '/v1/cart/items', {'x-http-method-override': 'DEL ETE'}, ''],
  ]
  for (const [name, where, headers, body] of refused) {
    it(`${name}: 403 contract, nothing reaches the upstream`, async () => {
      const before = seen.length
      const r = await post(where, headers, body)
      assert.equal(r.status, 403, r.body)
      assert.equal(r.headers['x-pipelock-block-reason'], 'contract_enforce_default')
      assert.equal(r.headers['x-pipelock-block-reason-layer'], 'contract')
      // the deny is the host's (no rule of it allows that method), not its one rule's
      assert.match(r.body, /^blocked: contract_enforce_default: method override (DELETE|PATCH|\(invalid\)) not allowed by contract sha256:[0-9a-f]{64} \(no enforce rule of host 127\.0\.0\.31 matches\)\n$/)
      assert.equal(seen.length, before, 'the upstream was reached')
    })
  }

  it('the reverse proxy judges the same way: the plain POST passes, one naming DELETE is refused', async () => {
    const reversePort = reverseListenPort(proxy!)
    const via = (headers: Record<string, string>) => rawHttp(reversePort, {method: 'POST', path: '/v1/cart/items', headers: {'x-pipelock-agent': 'shop-agent', 'content-length': '0', ...headers}})
    const before = seen.length
    assert.equal((await via({})).status, 200)
    const r = await via({'x-http-method-override': 'DELETE'})
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'contract_enforce_default')
    assert.equal(seen.length, before + 1, 'only the plain POST reached the upstream')
  })

  it('capture records the overrides, and learn shadow judges the captured requests as the live gate did', async () => {
    const config = path.join(proxy!.dir, 'pipelock.yaml')
    await proxy!.stop()
    proxy = undefined
    const files = readdirSync(capture, {recursive: true, encoding: 'utf8'}).filter((f) => f.endsWith('.jsonl'))
    const records = files.flatMap((f) => readFileSync(path.join(capture, f), 'utf8').split('\n').filter((l) => l !== ''))
      .map((l) => JSON.parse(l) as {type: string; detail: {request?: {method: string; headers?: Record<string, string[]>}; outcome?: string}})
      .filter((e) => e.type === 'capture' && e.detail.request?.method === 'POST')
    const overrides = records.map((e) => e.detail.request!.headers?.['x-http-method-override'] ?? []).sort()
    // Forward proxy: two allowed, seven refused; reverse proxy: one allowed, one refused.
    assert.deepEqual(overrides, [[], [], [], ['(invalid)'], ['DELETE'], ['DELETE'], ['DELETE'], ['DELETE'], ['DELETE'], ['DELETE'], ['PATCH']])
    // No raw override text in evidence: the invalid one is only its placeholder.
    assert.ok(!files.some((f) => readFileSync(path.join(capture, f), 'utf8').includes('DEL ETE')))

    // The run's own config: its scanner settings (the loopback allowlist) are the ones replayed.
    const json = path.join(tempDir('pl-override-shadow-'), 'shadow.json')
    const pub = path.join(lab.ks, 'agents', 'ci-compile', 'id_ed25519.pub')
    const r = cli(['learn', 'shadow', '--contract', cand.file, '--contract-key', pub, '--sessions', capture, '--config', config, '--out-json', json])
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(readFileSync(json, 'utf8')) as {replayed: number; new_allows: number; new_blocks: number; changed: number}
    // The eight requests the live gate refused replay as blocks (judged by their overrides), the
    // three it allowed as allows: nothing changes. Judged by the request line alone, the eight
    // would replay as new allows.
    assert.equal(report.replayed, 11, JSON.stringify(report).slice(0, 1500))
    assert.deepEqual({changed: report.changed, new_allows: report.new_allows, new_blocks: report.new_blocks}, {changed: 0, new_allows: 0, new_blocks: 0})
  })
})
