/**
 * `response_scanning.action: ask` switched by a hot reload of a live `pipelock run` (runtime
 * §20.6, docs/ask.md "Reloads"): a run with an operator channel from start-up (an admin API token)
 * holds from the next request; switching away from `ask` answers what is held (403, the approval
 * `cancelled`) instead of leaving it to time out; a run without a channel warns and blocks; a
 * reload that would ask with no channel at all is refused with the running config kept.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {approvalsPending, rawHttp, startHttpUpstream, startProxy, tempDir, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const TOKEN = 'e2e-ask-reload-token-AAAAAAAAAAAA'

const config = (action: string, token: string): string => [
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'forward_proxy:', '  enabled: true',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
  'response_scanning:', `  action: ${action}`, '  ask_timeout_seconds: 60',
  'kill_switch:', `  api_token: "${token}"`,
].join('\n') + '\n'

const ask = (proxy: RunningProxy, ...args: string[]) => runCli(['ask', ...args, '--api-url', `127.0.0.1:${proxy.port}`], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN}})

/** Writes the config in place and waits until the run has applied it (its `config reloaded` audit event). */
async function reload(proxy: RunningProxy, yaml: string): Promise<void> {
  const count = (): number => proxy.stdout().split('"message":"config reloaded"').length
  const before = count()
  writeFileSync(path.join(proxy.dir, 'pipelock.yaml'), yaml)
  assert.ok(await until(async () => count() > before, 10_000), `the reload was applied:\n${proxy.stderr()}`)
}

async function pendingIds(proxy: RunningProxy, n: number): Promise<string[]> {
  assert.ok(await approvalsPending(proxy.port, TOKEN, n, 10_000), `${n} request(s) held`)
  const r = ask(proxy, 'list', '--json')
  assert.equal(r.status, 0, r.stderr)
  const ids = (JSON.parse(r.stdout) as {approvals: Array<{id: string}>}).approvals.map((a) => a.id)
  assert.equal(ids.length, n, `${n} request(s) held`)
  return ids
}

// A held request waits while the test runs `pipelock ask` (a blocking child process) and reloads
// the config: on a loaded machine that outlasts the harness's default 10 s socket timeout.
const HELD_MS = 60_000

describe('ask across hot reloads of a running proxy', {timeout: 120_000}, () => {
  let up: Upstream
  let fetchUrl: string
  before(async () => {
    up = await startHttpUpstream()
    fetchUrl = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection`)}`
  })
  after(async () => {
    await up?.close()
  })

  it('with a token from start-up: block -> ask holds from the next request; ask -> block answers the held ones', async () => {
    const proxy = await startProxy(config('block', TOKEN), {dir: tempDir('pl-ask-reload-')})
    try {
      // Nothing asks yet: the 409 names the running action, not the file's.
      const none = ask(proxy, 'list')
      assert.equal(none.status, 1)
      assert.equal(none.stderr, 'admin API error on GET /api/v1/approvals (HTTP 409): no approvals: the running config holds no requests (response_scanning.action: block); set response_scanning.action: ask and reload (see docs/ask.md) [ADMIN_API_HTTP_ERROR]\n')
      const blocked = await rawHttp(proxy.port, {path: fetchUrl})
      assert.equal(blocked.status, 403)

      await reload(proxy, config('ask', TOKEN))
      assert.doesNotMatch(proxy.stderr(), /behaves as block/)
      const first = rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS})
      const [id] = await pendingIds(proxy, 1)
      const a = ask(proxy, 'approve', id!, '--by', 'alice')
      assert.equal(a.status, 0, a.stderr)
      const r = await first
      assert.equal(r.status, 200)
      assert.match(JSON.parse(r.body).content, /Ignore all previous instructions/)

      // Two held when the file goes back to block: both answered at once, a deny each.
      const held = [rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS}), rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS})]
      const ids = await pendingIds(proxy, 2)
      await reload(proxy, config('block', TOKEN))
      for (const x of await Promise.all(held)) {
        assert.equal(x.status, 403)
        assert.equal(x.headers['x-pipelock-block-reason'], 'prompt_injection')
        assert.match(x.body, /response contains prompt injection: [^"]+ \(withdrawn by a config reload: response_scanning\.action is no longer ask\)/)
      }
      const all = JSON.parse(ask(proxy, 'list', '--all', '--json').stdout) as {approvals: Array<{id: string; status: string; decision_reason?: string}>}
      for (const id of ids) {
        const item = all.approvals.find((x) => x.id === id)
        assert.deepEqual([item?.status, item?.decision_reason], ['cancelled', 'withdrawn by a config reload: response_scanning.action is no longer ask'])
      }
      assert.match(proxy.stdout(), /"message":"2 held request\(s\) denied: response_scanning.action is no longer ask"/)
      const late = ask(proxy, 'approve', ids[0]!)
      assert.equal(late.status, 1)
      assert.match(late.stderr, /approval already decided/)
      // Block again: the next injected page is refused at once.
      const next = await rawHttp(proxy.port, {path: fetchUrl})
      assert.equal(next.status, 403)
      assert.match(next.body, /response contains injection/)
    } finally {
      await proxy.stop()
    }
  })

  it('without a token at start-up: a reload to ask (token added) warns and behaves as block; ask says why', async () => {
    const proxy = await startProxy(config('block', ''), {dir: tempDir('pl-ask-reload-')})
    try {
      await reload(proxy, config('ask', TOKEN))
      const warning = 'WARNING: config reload: response_scanning.action: ask behaves as block: this run started without an admin API token, so no operator can answer a held request; restart pipelock run with kill_switch.api_token (or PIPELOCK_KILLSWITCH_API_TOKEN) set'
      assert.ok(proxy.stderr().split('\n').includes(warning), proxy.stderr())
      const r = await rawHttp(proxy.port, {path: fetchUrl})
      assert.equal(r.status, 403)
      assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
      // No admin API on this run: the client says a token is needed at start-up.
      const l = ask(proxy, 'list')
      assert.equal(l.status, 1)
      assert.match(l.stderr, /^the admin API is not enabled on the proxy at .* \[ADMIN_API_NOT_ENABLED\]; hint: pipelock run mounts it only when kill_switch\.api_token \(or PIPELOCK_KILLSWITCH_API_TOKEN\) is set at start-up: set it and restart the proxy/)
    } finally {
      await proxy.stop()
    }
  })

  it('a reload to ask with no operator channel at all is refused, and says the running config stays', async () => {
    const proxy = await startProxy(config('block', TOKEN), {dir: tempDir('pl-ask-reload-')})
    try {
      writeFileSync(path.join(proxy.dir, 'pipelock.yaml'), config('ask', ''))
      const line = 'pipelock: config reload failed: config sets response_scanning.action: ask but no operator channel is configured (the admin API needs kill_switch.api_token or PIPELOCK_KILLSWITCH_API_TOKEN); reload refused (the running config stays)'
      assert.ok(await until(async () => proxy.stderr().split('\n').includes(line), 10_000), proxy.stderr())
      assert.doesNotMatch(proxy.stderr(), /refusing to start/)
      // The running config (block, the token) is still in force.
      const r = await rawHttp(proxy.port, {path: fetchUrl})
      assert.equal(r.status, 403)
      const l = ask(proxy, 'list')
      assert.equal(l.status, 1)
      assert.match(l.stderr, /\(response_scanning\.action: block\)/)
    } finally {
      await proxy.stop()
    }
  })
})
