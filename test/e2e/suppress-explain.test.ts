/**
 * operations.md §10.2 "Suppress" and §7.2: injection text served by a real upstream passes for
 * the URL a suppress entry names (audited, counted) and is blocked elsewhere; request-body DLP is
 * suppressed for one URL and not another, on the forward and the reverse proxy; `explain_blocks` puts a hint in the JSON body and the
 * `X-Pipelock-Hint` header, never the secret, and an SSRF block names the setting that allows it.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {after, before, describe, it} from 'node:test'
import {rawHttp, reverseListenPort, type RunningProxy, startHttpUpstream, startProxy, until, type Upstream} from './proxy-harness.js'

const AWS_KEY = ['AKIA', 'Q3EGRZ7NXPLM', '4TWB'].join('')

async function post(port: number, target: string, body: string): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method: 'POST', path: target, headers: {'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body))}, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

const SUPPRESS = [
  'forward_proxy:', '  enabled: true',
  'explain_blocks: true',
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
  'response_scanning:', '  action: block',
  'suppress:',
  '  - rule: Prompt Injection', '    path: injection-ok', '    reason: fixture page quotes the phrase',
  '  - rule: cross-lingual instruction override', '    path: injection-ok',
  '  - rule: AWS Access ID', '    path: kib-ok', '    reason: docs fixture token',
]

describe('suppress and explain_blocks', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    proxy = await startProxy(SUPPRESS.join('\n') + '\n')
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('a response finding is suppressed only where the entry says, audited and counted', async () => {
    const ok = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection-ok`)}`})
    assert.equal(ok.status, 200, ok.body)
    const other = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection-other`)}`})
    assert.equal(other.status, 403)
    // explain_blocks: the hint in the JSON body and the header.
    assert.match(JSON.parse(other.body).hint, /suppress entry/)
    assert.match(String(other.headers['x-pipelock-hint']), /suppress entry/)
    const fwd = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/injection-ok`})
    assert.equal(fwd.status, 200)
    assert.ok(await until(async () => proxy.stdout().includes('"event":"finding_suppressed"')))
    const ev = proxy.stdout().split('\n').filter((l) => l.includes('"event":"finding_suppressed"')).map((l) => JSON.parse(l))
    assert.equal(ev[0].rule, 'Prompt Injection')
    assert.equal(ev[0].reason, 'fixture page quotes the phrase')
    assert.equal(ev[0].surface, 'response')
    assert.equal(ev[0].suppress_index, 0)
    const m = (await rawHttp(proxy.port, {path: '/metrics'})).body
    assert.match(m, /^pipelock_response_scan_exempt_total\{reason="suppress",transport="fetch"\} [1-9]/m)
    assert.match(m, /^pipelock_findings_suppressed_total\{rule="Prompt Injection",surface="response"\} [1-9]/m)
  })

  it('request-body DLP is suppressed for one URL, not another; the hint never carries the secret', async () => {
    const ok = await post(proxy.port, `http://127.0.0.1:${up.port}/kib-ok`, `fixture: ${AWS_KEY}`)
    assert.equal(ok.status, 200, ok.body)
    const other = await post(proxy.port, `http://127.0.0.1:${up.port}/kib-other`, `fixture: ${AWS_KEY}`)
    assert.equal(other.status, 403)
    assert.match(String(other.headers['x-pipelock-hint']), /suppress entry/)
    const urlDlp = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/kib-ok?k=${AWS_KEY}`)}`})
    assert.equal(urlDlp.status, 403, 'URL DLP is never suppressible')
    assert.equal(JSON.parse(urlDlp.body).hint, 'Core DLP pattern matched. This is a critical credential detection that cannot be disabled.')
    assert.equal(urlDlp.headers['x-pipelock-hint'], 'Core DLP pattern matched. This is a critical credential detection that cannot be disabled.')
    for (const r of [other, urlDlp]) assert.ok(!JSON.stringify(r).includes(AWS_KEY))
    assert.ok(!proxy.stdout().includes(AWS_KEY))
  })

  it('the reverse proxy suppresses request-body and response findings against the upstream request URL', async () => {
    const rev = await startProxy(SUPPRESS.join('\n') + '\n', {args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}/`, '--reverse-listen', '127.0.0.1:0']})
    try {
      const port = reverseListenPort(rev)
      assert.ok(port > 0, rev.stderr())
      const okBody = await post(port, '/kib-ok', `fixture: ${AWS_KEY}`)
      assert.equal(okBody.status, 200, JSON.stringify(okBody))
      const body = await post(port, '/kib-other', `fixture: ${AWS_KEY}`)
      assert.equal(body.status, 403, body.body)
      assert.equal(body.headers['x-pipelock-block-reason'], 'dlp_match')
      const okPage = await rawHttp(port, {path: '/injection-ok'})
      assert.equal(okPage.status, 200, okPage.body)
      const page = await rawHttp(port, {path: '/injection-other'})
      assert.equal(page.status, 403, page.body)
      assert.equal(page.headers['x-pipelock-block-reason'], 'prompt_injection')
      assert.ok(await until(async () => (rev.stdout().match(/"event":"finding_suppressed"/g) ?? []).length >= 2))
      const ev = rev.stdout().split('\n').filter((l) => l.includes('"event":"finding_suppressed"')).map((l) => JSON.parse(l))
      assert.deepEqual(ev.map((e) => [e.surface, e.rule, e.transport]), [['body_dlp', 'AWS Access ID', 'reverse'], ['response', 'Prompt Injection', 'reverse']])
      const m = (await rawHttp(rev.port, {path: '/metrics'})).body
      assert.match(m, /^pipelock_response_scan_exempt_total\{reason="suppress",transport="reverse"\} [1-9]/m)
      assert.match(m, /^pipelock_findings_suppressed_total\{rule="AWS Access ID",surface="body_dlp"\} 1$/m)
      assert.ok(!rev.stdout().includes(AWS_KEY))
    } finally {
      await rev.stop()
    }
  })

  it('an SSRF block of a private upstream names the setting that allows it', async () => {
    const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent('http://10.255.255.1/')}`})
    assert.equal(r.status, 403)
    assert.match(JSON.parse(r.body).hint, /ssrf\.ip_allowlist/)
  })
})
