/**
 * Cross-request exfiltration detection (operations §5, §10.2) on the built `pipelock run`, real
 * sockets: a key split across two fetches is refused on the second (`cross_request_deny`, layer
 * `cross_request`) without the URL ever appearing in clear in the answer or the log; forward POST
 * bodies split across requests are refused; the entropy budget warns or blocks; `enforce: false`
 * only logs; reset clears the session's state; metrics and `/stats` follow. JSON and form bodies
 * feed their fields, not their syntax, and each field keeps a tail of its own, so unrelated
 * values before each half do not keep a split key apart. An unbound agent's state is its client address's: a new
 * `X-Pipelock-Agent` or `?agent=` does not start a clean window, while a listener-bound agent
 * keeps its own, and another loopback source address is the same client host. Each test has a
 * proxy of its own, so their windows stay apart.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {after, afterEach, before, beforeEach, describe, it} from 'node:test'
import {stringify} from 'yaml'
import {freePort, presetConfig, rawExchange, rawHttp, startHttpUpstream, startProxy, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'cee-test-token'

function config(cee: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  const c = presetConfig('balanced')
  c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
  c.fetch_proxy.monitoring.max_requests_per_minute = 100000
  c.kill_switch.api_token = TOKEN
  c.cross_request_detection = cee
  // Not under test here: with taint on, every POST after a read from the (untrusted) loopback
  // upstream is an ask, a 403 without an approver (docs/taint.md, matrix row 8).
  c.taint = {...c.taint, enabled: false}
  return stringify({...c, ...extra})
}

const BOTH = {
  enabled: true,
  action: 'block',
  entropy_budget: {enabled: true, bits_per_window: 4096, window_minutes: 5, action: 'warn'},
  fragment_reassembly: {enabled: true, max_buffer_bytes: 65536, window_minutes: 5},
}

/** A forward-proxy POST with a body, from the local address `from`. */
async function post(proxyPort: number, url: string, body: string, agent: string, from: string, contentType = 'text/plain'): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: {'content-type': contentType, 'X-Pipelock-Agent': agent}, agent: false, localAddress: from}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('pipelock run: cross-request detection', {timeout: 90_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let builderPort: number
  const fetchVia = async (q: string, agent: string, from: string) =>
    await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page?${q}`)}`, headers: {'X-Pipelock-Agent': agent}, from})
  /** A forward-proxy GET (absolute URI) from `from`, naming `agent` when given, on `port` (default: the main listener). */
  const forwardGet = async (path: string, from: string, agent?: string, port = proxy.port) =>
    await rawHttp(port, {path: `http://127.0.0.1:${up.port}${path}`, headers: agent === undefined ? {} : {'X-Pipelock-Agent': agent}, from})
  before(async () => {
    up = await startHttpUpstream()
    builderPort = await freePort()
  })
  // A proxy per test: every loopback address is one client host, whose window would carry over.
  beforeEach(async () => {
    proxy = await startProxy(config(BOTH, {agents: {builder: {listeners: [`127.0.0.1:${builderPort}`]}}}))
  })
  afterEach(async () => {
    await proxy?.stop()
  })
  after(async () => {
    await up?.close()
  })

  it('a key split across two fetches is refused on the second, and the URL is never echoed or logged in clear', async () => {
    assert.equal((await fetchVia('a=AKIAIOSF', 'split', '127.0.0.2')).status, 200)
    const r = await fetchVia('a=ODNN7REALKEY', 'split', '127.0.0.2')
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'cross_request_deny')
    assert.equal(r.headers['x-pipelock-block-reason-layer'], 'cross_request')
    const j = JSON.parse(r.body)
    assert.equal(j.block_reason, 'cross-request secret detected: AWS Access ID')
    assert.equal(j.url, `http://127.0.0.1:${up.port}/[redacted]`)
    assert.ok(await until(async () => proxy.stdout().includes('"block_reason":"cross_request_deny"')))
    assert.ok(!proxy.stdout().includes('ODNN7REALKEY'), 'the blocked URL is redacted in the audit log')
    const m = (await rawHttp(proxy.port, {path: '/metrics'})).body
    assert.match(m, /^pipelock_cross_request_dlp_match_total 1$/m)
    assert.match(m, /^pipelock_cross_request_fragment_buffer_bytes [1-9]\d*$/m)
    const stats = JSON.parse((await rawHttp(proxy.port, {path: '/stats'})).body)
    assert.ok(stats.cross_request_detection.fragment_buffer_active >= 2, JSON.stringify(stats.cross_request_detection))
  })

  it('forward POST bodies split across requests are refused', async () => {
    assert.equal((await post(proxy.port, `http://127.0.0.1:${up.port}/echo`, 'token part one ghp_' + 'aB3dE5gH7jK9mN1pQ3', 'body', '127.0.0.3')).status, 200)
    const r = await post(proxy.port, `http://127.0.0.1:${up.port}/echo`, 'sT5vW7yZ9bC1dE3fGh', 'body', '127.0.0.3')
    assert.equal(r.status, 403, r.body)
    assert.equal(r.body, 'blocked: cross-request secret detected: GitHub Token\n')
    assert.equal(r.headers['x-pipelock-block-reason'], 'cross_request_deny')
  })

  it('a key split across two JSON bodies is refused on the second: the fields are joined, not the syntax', async () => {
    const url = `http://127.0.0.1:${up.port}/echo`
    assert.equal((await post(proxy.port, url, '{"a":"AKIAZ7QW3E"}', 'a9', '127.0.0.8', 'application/json')).status, 200)
    const j = await post(proxy.port, url, '{"a":"RT5YUI6OPL"}', 'a9', '127.0.0.8', 'application/json')
    assert.equal(j.status, 403, j.body)
    assert.equal(j.body, 'blocked: cross-request secret detected: AWS Access ID\n')
    assert.equal(j.headers['x-pipelock-block-reason'], 'cross_request_deny')
  })

  it('a key split across two form bodies is refused on the second', async () => {
    const url = `http://127.0.0.1:${up.port}/echo`
    const form = 'application/x-www-form-urlencoded'
    assert.equal((await post(proxy.port, url, 'a=AKIAZ7QW3E', 'a9', '127.0.0.9', form)).status, 200)
    const f = await post(proxy.port, url, 'b=RT5YUI6OPL', 'a9', '127.0.0.9', form)
    assert.equal(f.status, 403, f.body)
    assert.equal(f.headers['x-pipelock-block-reason'], 'cross_request_deny')
  })

  it('unrelated values before each half do not keep them apart: forward query (each field keeps its own tail)', async () => {
    assert.equal((await forwardGet('/c?x=alpha&q=AKIAZ7QW3E', '127.0.0.10')).status, 200)
    const f = await forwardGet('/c?x=beta&q=RT5YUI6OPL', '127.0.0.10')
    assert.equal(f.status, 403, f.body)
    assert.equal(f.body, 'blocked: cross-request secret detected: AWS Access ID\n')
    assert.equal(f.headers['x-pipelock-block-reason'], 'cross_request_deny')
    assert.equal(f.headers['x-pipelock-block-reason-layer'], 'cross_request')
  })

  it('unrelated values before each half do not keep them apart: /fetch query', async () => {
    assert.equal((await fetchVia('x=alpha&q=AKIAZ7QW3E', 'tails', '127.0.0.11')).status, 200)
    const r = await fetchVia('x=beta&q=RT5YUI6OPL', 'tails', '127.0.0.11')
    assert.equal(r.status, 403, r.body)
    assert.equal(JSON.parse(r.body).block_reason, 'cross-request secret detected: AWS Access ID')
    assert.equal(r.headers['x-pipelock-block-reason'], 'cross_request_deny')
  })

  it('unrelated values before each half do not keep them apart: JSON bodies', async () => {
    const url = `http://127.0.0.1:${up.port}/echo`
    assert.equal((await post(proxy.port, url, '{"id":"req-1","t":"AKIAZ7QW3E"}', 'tails', '127.0.0.12', 'application/json')).status, 200)
    const j = await post(proxy.port, url, '{"id":"req-2","t":"RT5YUI6OPL"}', 'tails', '127.0.0.12', 'application/json')
    assert.equal(j.status, 403, j.body)
    assert.equal(j.body, 'blocked: cross-request secret detected: AWS Access ID\n')
    // The refused half was not recorded: sent again, it is refused again.
    assert.equal((await post(proxy.port, url, '{"id":"req-3","t":"RT5YUI6OPL"}', 'tails', '127.0.0.12', 'application/json')).status, 403)
  })

  it('ordinary traffic with repeating field names passes: pagination, JSON ids and names', async () => {
    for (let i = 1; i <= 25; i++) {
      const r = await forwardGet(`/list?page=${i}&sort=name&per_page=50`, '127.0.0.13')
      assert.equal(r.status, 200, `page ${i}: ${r.body}`)
    }
    const url = `http://127.0.0.1:${up.port}/echo`
    for (let i = 1; i <= 12; i++) {
      const r = await post(proxy.port, url, JSON.stringify({id: String(i), item: {name: `item ${i}`, tags: ['a', 'b']}}), 'ids', '127.0.0.13', 'application/json')
      assert.equal(r.status, 200, `id ${i}: ${r.body}`)
    }
  })

  it('reset of an unbound session clears its client address\'s cross-request state, which every name there shares', async () => {
    assert.equal((await fetchVia('a=AKIAIOSF', 'reset-me', '127.0.0.4')).status, 200)
    const res = await new Promise<any>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'POST', path: `/api/v1/sessions/${encodeURIComponent('reset-me|127.0.0.4')}/reset`, headers: {Authorization: `Bearer ${TOKEN}`}, agent: false}, (r) => {
        let b = ''
        r.on('data', (c: Buffer) => (b += c.toString('utf8')))
        r.on('end', () => resolve(JSON.parse(b)))
      })
      req.on('error', reject)
      req.end()
    })
    assert.equal(res.cee_state_cleared, true)
    assert.equal((await fetchVia('a=ODNN7REALKEY', 'renamed-after-reset', '127.0.0.4')).status, 200, 'the first half was forgotten')
  })

  it('a new X-Pipelock-Agent on each request does not start a clean window: the renamed second half is refused', async () => {
    assert.equal((await forwardGet('/b?q=AKIAZ7QW3E', '127.0.0.5', 'n2')).status, 200)
    const r = await forwardGet('/b?q=RT5YUI6OPL', '127.0.0.5', 'n3')
    assert.equal(r.status, 403, r.body)
    assert.equal(r.body, 'blocked: cross-request secret detected: AWS Access ID\n')
    assert.equal(r.headers['x-pipelock-block-reason'], 'cross_request_deny')
    // Dropping the header (anonymous) does not shed it either, nor does another loopback source
    // address: any local process may bind one, so all of 127.0.0.0/8 is one client host.
    assert.equal((await forwardGet('/b?q=RT5YUI6OPL', '127.0.0.5')).status, 403)
    assert.equal((await forwardGet('/b?q=RT5YUI6OPL', '127.0.0.55', 'n4')).status, 403)
  })

  it('a new ?agent= on each fetch does not start a clean window either', async () => {
    const fetchAs = async (q: string, agent: string) =>
      await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/c?${q}`)}&agent=${agent}`, from: '127.0.0.6'})
    assert.equal((await fetchAs('q=AKIAZ7QW3E', 'n4')).status, 200)
    const r = await fetchAs('q=RT5YUI6OPL', 'n5')
    assert.equal(r.status, 403, r.body)
    assert.equal(JSON.parse(r.body).block_reason, 'cross-request secret detected: AWS Access ID')
  })

  it('a listener-bound agent keeps its own window: apart from unbound names at its address, its own split still refused', async () => {
    const from = '127.0.0.7'
    assert.equal((await forwardGet('/d?q=AKIAZ7QW3E', from, undefined, builderPort)).status, 200)
    // The unbound half at the same address is in the address's window, not the bound agent's.
    assert.equal((await forwardGet('/d?q=RT5YUI6OPL', from, 'other')).status, 200)
    const r = await forwardGet('/d?q=RT5YUI6OPL', from, undefined, builderPort)
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'cross_request_deny')
  })
})

describe('pipelock run: cross-request entropy budget', {timeout: 90_000}, () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up?.close()
  })
  const budget = (action: string) => ({...BOTH, entropy_budget: {enabled: true, bits_per_window: 200, window_minutes: 5, action}})
  const q = (i: number) => `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/page?v=${'q8Zr2Lx'.repeat(2)}${i}`)}`

  it('bits_per_window 200, action block: refused once the window holds 200 bits; CONNECT of the same session too', async () => {
    const proxy = await startProxy(config(budget('block')))
    try {
      const statuses: number[] = []
      for (let i = 0; i < 6; i++) statuses.push((await rawHttp(proxy.port, {path: q(i)})).status)
      const first = statuses.indexOf(403)
      assert.ok(first > 0, statuses.join(','))
      assert.ok(statuses.slice(first).every((s) => s === 403), statuses.join(','))
      const r = await rawHttp(proxy.port, {path: q(9)})
      assert.equal(JSON.parse(r.body).block_reason, 'cross-request entropy budget exceeded')
      assert.match((await rawHttp(proxy.port, {path: '/metrics'})).body, /^pipelock_cross_request_entropy_exceeded_total [1-9]/m)
      // CONNECT records nothing, but the same session's exceeded budget refuses it (§5.4).
      const c = await rawExchange(proxy.port, `CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`)
      assert.match(c, /^HTTP\/1\.1 403 Forbidden \(blocked by pipelock: cross_request_deny, layer cross_request_entropy\)\r\n/)
      assert.match(c, /X-Pipelock-Block-Reason: cross_request_deny\r\n/)
      assert.ok(c.endsWith('\r\n\r\nCONNECT blocked: cross-request entropy budget exceeded\n'), c)
    } finally {
      await proxy.stop()
    }
  })

  it('action warn: requests pass and an anomaly is logged; enforce: false turns blocks into anomalies', async () => {
    for (const [cee, extra] of [[budget('warn'), {}], [budget('block'), {enforce: false}]] as const) {
      const proxy = await startProxy(config(cee, extra))
      try {
        for (let i = 0; i < 6; i++) assert.equal((await rawHttp(proxy.port, {path: q(i)})).status, 200)
        assert.ok(await until(async () => /"event":"anomaly".*"scanner":"cross_request_entropy".*"detail":"entropy budget exceeded: \d+\/200 bits"/.test(proxy.stdout())), proxy.stdout())
      } finally {
        await proxy.stop()
      }
    }
  })
})
