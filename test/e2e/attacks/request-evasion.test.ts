/**
 * Attack classes on the request side, each through the built proxy with real clients, each
 * asserting what the logging upstream received: SSRF to the unspecified and special addresses
 * (item 3), UTF-8-obfuscated keys in headers (5), credentials on cross-origin redirects (6),
 * rate-limit budgets per IP spelling (10), empty hosts (14) and Unicode look-alike hosts (15).
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {Client} from 'undici'
import {rawExchange, rawHttp} from '../proxy-harness.js'
import {attackConfig, attackRig, AWS_KEY, curl, hasCurl, startLoggingUpstream, type LoggingUpstream} from './attack-harness.js'

const fetchPath = (url: string): string => `/fetch?url=${encodeURIComponent(url)}`

describe('attacks: request-side evasions', {timeout: 90_000}, () => {
  const rig = attackRig(attackConfig().replace('    max_requests_per_minute: 100000\n', '    max_requests_per_minute: 100000\n    blocklist: ["localhost", "*.pastebin.com"]\n'))
  let other: LoggingUpstream
  let v6: LoggingUpstream
  before(async () => {
    other = await startLoggingUpstream()
    // Bound on every IPv6 (and, dual-stack, IPv4) address: what `[::]` reaches when it is dialled.
    v6 = await startLoggingUpstream('::')
  })
  after(async () => {
    for (const u of [other, v6]) await u?.close()
  })

  it('SSRF through [::], NAT64, 6to4 and IPv4-compatible forms: fetch, forward, CONNECT and a redirect', async () => {
    v6.reset()
    const targets = [`[::]:${v6.port}`, `[::ffff:0.0.0.0]:${v6.port}`, `[64:ff9b::7f00:1]:${v6.port}`, `[2002:7f00:1::]:${v6.port}`, `[::127.0.0.1]:${v6.port}`, `0.0.0.0:${v6.port}`]
    for (const t of targets) {
      const f = await rawHttp(rig.proxy.port, {path: fetchPath(`http://${t}/`)})
      assert.equal(f.status, 403, `fetch ${t}: ${f.body}`)
      const fw = await rawHttp(rig.proxy.port, {path: `http://${t}/`})
      assert.equal(fw.status, 403, `forward ${t}`)
      const c = await rawExchange(rig.proxy.port, `CONNECT ${t} HTTP/1.1\r\nHost: ${t}\r\n\r\n`, {untilHeaders: true})
      assert.match(c, /^HTTP\/1\.1 403 /, `CONNECT ${t}`)
    }
    const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/redirect?to=${encodeURIComponent(`http://[::]:${v6.port}/`)}`})
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'redirect_scan_denied')
    assert.equal(v6.connections(), 0, 'nothing connected to the [::] listener')
  })

  it('a key obfuscated with UTF-8 (zero-width, Cyrillic, fullwidth) in a header is blocked', {skip: !hasCurl && 'curl not installed'}, async () => {
    rig.up.reset()
    const fullwidth = [...AWS_KEY].map((c) => String.fromCodePoint(c.charCodeAt(0) + 0xfee0)).join('')
    for (const v of [`${AWS_KEY.slice(0, 6)}\u200b${AWS_KEY.slice(6)}`, `\u0410${AWS_KEY.slice(1)}`, fullwidth]) {
      const r = await curl(['-x', `http://${rig.proxy.addr}`, '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${v}`, `http://127.0.0.1:${rig.up.port}/`])
      assert.ok(r.stdout.endsWith('\n403'), `${JSON.stringify(v)}: ${r.stdout}`)
    }
    assert.equal(rig.up.requests.length, 0)
  })

  it('credentials are dropped when a redirect leaves the origin, kept on the same origin (undici)', async () => {
    rig.up.reset()
    other.reset()
    const client = new Client(`http://${rig.proxy.addr}`)
    const creds = {authorization: 'Bearer opaque-session-value', cookie: 'sid=opaque', 'x-api-key': 'opaque', 'x-trace': 'kept'}
    try {
      for (const status of [301, 302, 307, 308]) {
        const to = `http://127.0.0.1:${other.port}/headers`
        const r = await client.request({method: 'GET', path: `http://127.0.0.1:${rig.up.port}/redirect?status=${status}&to=${encodeURIComponent(to)}`, headers: creds})
        const seen = JSON.parse(await r.body.text()) as Record<string, string>
        assert.equal(r.statusCode, 200)
        assert.equal(seen.authorization, undefined, `${status}`)
        assert.equal(seen.cookie, undefined, `${status}`)
        assert.equal(seen['x-api-key'], undefined, `${status}`)
        assert.equal(seen['x-trace'], 'kept')
      }
      const same = await client.request({method: 'GET', path: `http://127.0.0.1:${rig.up.port}/redirect?to=/headers`, headers: creds})
      const seen = JSON.parse(await same.body.text()) as Record<string, string>
      assert.equal(seen.authorization, 'Bearer opaque-session-value', 'same origin keeps credentials')
    } finally {
      await client.close()
    }
    assert.ok(!other.received().toLowerCase().includes('authorization:'))
    assert.ok(!other.received().includes('opaque'))
  })

  it('an empty host fails in the URL stage', async () => {
    for (const u of ['http:///x', 'http://:80/x']) {
      const r = await rawHttp(rig.proxy.port, {path: fetchPath(u)})
      assert.equal(r.status, 403, r.body)
      assert.equal((JSON.parse(r.body) as {block_reason: string}).block_reason, 'invalid URL: empty host')
    }
  })

  it('fullwidth and zero-width host spellings meet the blocklist', async () => {
    for (const host of ['ｌｏｃａｌｈｏｓｔ', 'local\u200bhost', 'ＬＯＣＡＬＨＯＳＴ', 'ｐａｓｔｅｂｉｎ.com']) {
      const r = await rawHttp(rig.proxy.port, {path: fetchPath(`http://${host}:${rig.up.port}/`)})
      assert.equal(r.status, 403, host)
      assert.equal(r.headers['x-pipelock-block-reason'], 'domain_blocklist', host)
    }
  })
})

describe('attacks: one rate-limit budget per IP address, however spelled', {timeout: 60_000}, () => {
  const rig = attackRig(attackConfig().replace('max_requests_per_minute: 100000', 'max_requests_per_minute: 3'))

  it('seven spellings of 127.0.0.1 share the budget of three', async () => {
    const spellings = ['127.0.0.1', '0x7f.0.0.1', '2130706433', '0x7f000001', '0177.0.0.1', '127.1', '[::ffff:127.0.0.1]']
    const statuses: number[] = []
    for (const s of spellings) statuses.push((await rawHttp(rig.proxy.port, {path: fetchPath(`http://${s}:${rig.up.port}/`)})).status)
    assert.deepEqual(statuses, [200, 200, 200, 429, 429, 429, 429])
    assert.equal(rig.up.requests.length, 3)
  })
})
