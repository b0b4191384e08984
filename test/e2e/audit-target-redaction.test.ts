/**
 * A target URL is logged percent-decoded and without its control characters. An env secret split
 * by `%0A` (refused as CRLF injection) or by an escape sequence is whole only in that printed
 * form, so the printed form is what must be checked before the URL is shown: the audit line and
 * the /fetch answer show `scheme://host/[redacted]`.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {baseConfig, rawHttp, startProxy, startRoutedUpstream, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const SECRET = 'Zq8rT2vLx9mNp4Wk7sYb'

describe('a secret whole only in the printed form of a target is not logged', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startRoutedUpstream((_req, res) => res.end('origin'))
    proxy = await startProxy(baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]'].join('\n')), {env: {...process.env, MY_APP_SECRET: SECRET}})
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  /** The audit line of `path`'s request (the only one with that path). */
  async function lineOf(marker: string): Promise<Record<string, unknown>> {
    const find = (): string | undefined => proxy.stdout().split('\n').find((l) => l.includes(`"request_id"`) && l.includes(marker))
    assert.ok(await until(async () => find() !== undefined), proxy.stdout())
    return JSON.parse(find()!) as Record<string, unknown>
  }

  it('a CRLF-refused target (forward and /fetch) is logged and answered as host/[redacted]', async () => {
    const origin = `127.0.0.1:${up.port}`
    const fwd = await rawHttp(proxy.port, {path: `http://${origin}/log?q=Zq8rT2vLx9%0AmNp4Wk7sYb`, headers: {'X-Pipelock-Agent': 'crlf-fwd'}})
    assert.deepEqual([fwd.status, fwd.body], [403, 'blocked: encoded CR or LF in URL\n'])
    const a = await lineOf('"agent":"crlf-fwd"')
    assert.deepEqual([a.event, a.scanner, a.url], ['blocked', 'crlf_injection', `http://${origin}/[redacted]`])

    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://${origin}/log2?q=Zq8rT2vLx9%0D%0AmNp4Wk7sYb`)}`, headers: {'X-Pipelock-Agent': 'crlf-fetch'}})
    assert.equal(fetched.status, 403)
    assert.equal(JSON.parse(fetched.body).url, `http://${origin}/[redacted]`)
    const b = await lineOf('"agent":"crlf-fetch"')
    assert.deepEqual([b.scanner, b.url], ['crlf_injection', `http://${origin}/[redacted]`])
  })

  it('an allowed target whose escape sequence a log line drops is logged as host/[redacted]', async () => {
    const origin = `127.0.0.1:${up.port}`
    // ESC [ 0 m between the halves: not CR or LF, so the request goes on; the log drops the
    // sequence. The filler keeps the value under the entropy threshold.
    const r = await rawHttp(proxy.port, {path: `http://${origin}/esc?q=${'a'.repeat(40)}Zq8rT2vLx9%1B%5B0mmNp4Wk7sYb`, headers: {'X-Pipelock-Agent': 'ansi'}})
    assert.equal(r.status, 200)
    const a = await lineOf('"agent":"ansi"')
    assert.deepEqual([a.event, a.url], ['allowed', `http://${origin}/[redacted]`])
    assert.ok(!proxy.stdout().includes(SECRET), 'the secret is nowhere in the audit log')
  })
})
