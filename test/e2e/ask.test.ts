/**
 * Human in the loop (`response_scanning.action: ask`, docs/ask.md) through the built CLI on real
 * sockets: a `/fetch` of an injected page is held until `pipelock ask approve|deny` answers it
 * through the admin API, or until `ask_timeout_seconds` denies it; a tainted session's POST is
 * held the same way. Every answer lands in a signed receipt (defer_id / resolution_source), and
 * without an operator channel (no API token) `ask` refuses to start.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {
  approvalsPending, assertRefusesToStart, BINARY_INJECTION, interceptingWebSocketConfig, makeSelfSignedCert, otherHostAddress, rawHttp, reverseListenPort, startHttpsUpstream, startHttpUpstream, startProxy, tempDir, tlsExchange, tlsThroughProxy,
  until, writeReceiptKeys, type RunningProxy, type Upstream,
} from './proxy-harness.js'

const TOKEN = 'e2e-ask-token'
const ENV = {PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN}
// A held request waits while the test runs `pipelock ask` a few times: on a loaded machine that
// takes longer than the harness's default 10 s socket timeout.
const HELD_MS = 60_000

const config = (dir: string, timeout: number): string => [
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'forward_proxy:', '  enabled: true',
  'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
  'response_scanning:', '  action: ask', `  ask_timeout_seconds: ${timeout}`,
  'session_profiling:', '  enabled: true',
  'kill_switch:', `  api_token: ${TOKEN}`,
  'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
].join('\n') + '\n'

const ask = (proxy: RunningProxy, ...args: string[]) => runCli(['ask', ...args, '--api-url', `127.0.0.1:${proxy.port}`], {env: ENV})

interface Held {
  id: string
  kind: string
  reason: string
  preview: string
  created_at: string
}

/** The one pending approval, once it is there (as `ask list --json` shows it). */
async function pending(proxy: RunningProxy): Promise<Held> {
  assert.ok(await approvalsPending(proxy.port, TOKEN, 1, 30_000), 'a request is held')
  const l = JSON.parse(ask(proxy, 'list', '--json').stdout) as {approvals: Held[]; count: number}
  assert.equal(l.count, 1, JSON.stringify(l))
  return l.approvals[0]!
}

const pendingId = async (proxy: RunningProxy): Promise<string> => (await pending(proxy)).id

function evidenceText(dir: string): string {
  const ev = path.join(dir, 'evidence')
  return readdirSync(ev).map((f) => readFileSync(path.join(ev, f), 'utf8')).join('\n')
}

describe('pipelock ask: held requests answered through the admin API', {timeout: 120_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let dir: string
  let fetchUrl: string
  before(async () => {
    up = await startHttpUpstream()
    dir = tempDir('pipelock-ask-')
    writeReceiptKeys(dir, keyPairFromSeed(createHash('sha256').update('pipelock-e2e-ask-key').digest()))
    proxy = await startProxy(config(dir, 60), {dir})
    fetchUrl = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection`)}&agent=asker`
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('nothing held: the list says so', () => {
    const r = ask(proxy, 'list')
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'No pending approvals.\n')
  })

  it('approved: the held /fetch answers 200 with the original content', async () => {
    const held = rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS})
    const id = await pendingId(proxy)
    const shown = ask(proxy, 'show', id)
    assert.equal(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, new RegExp(`^Approval ${id}\\n  kind: {7}response \\(fetch\\)\\n  agent: {6}asker\\n`))
    assert.match(shown.stdout, /\n {2}reason: {5}prompt injection detected: /)
    const a = ask(proxy, 'approve', id, '--by', 'alice', '--reason', 'known page')
    assert.equal(a.status, 0, a.stderr)
    assert.equal(a.stdout, `approved ${id} (allow)\n`)
    const r = await held
    assert.equal(r.status, 200)
    assert.match(JSON.parse(r.body).content, /Ignore all previous instructions/)
    // The answer is signed: the receipt names the approval and who answered.
    await until(async () => evidenceText(dir).includes(id), 10_000)
    assert.match(evidenceText(dir), new RegExp(`defer_id\\\\?":\\\\?"${id}\\\\?",\\\\?"resolution_policy\\\\?":\\\\?"hitl:allow\\\\?",\\\\?"resolution_source\\\\?":\\\\?"operator:alice`))
    const late = ask(proxy, 'deny', id)
    assert.notEqual(late.status, 0)
    assert.match(late.stderr, /approval already decided/)
  })

  it('stripped: the held /fetch answers 200 without the injection', async () => {
    const held = rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS})
    const id = await pendingId(proxy)
    const a = ask(proxy, 'approve', id, '--strip', '--json')
    assert.equal(a.status, 0, a.stderr)
    assert.deepEqual(Object.keys(JSON.parse(a.stdout)).sort(), ['decided_at', 'decided_by', 'id', 'status'])
    assert.equal(JSON.parse(a.stdout).status, 'stripped')
    const r = await held
    assert.equal(r.status, 200)
    assert.doesNotMatch(JSON.parse(r.body).content, /Ignore all previous instructions/)
  })

  it('stripped: a held forward response that is not UTF-8 keeps every byte outside the cut', async () => {
    const held = rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/binary-injection`, timeoutMs: HELD_MS})
    const id = await pendingId(proxy)
    assert.equal(ask(proxy, 'approve', id, '--strip').status, 0)
    const r = await held
    assert.equal(r.status, 200)
    const want = Buffer.from(BINARY_INJECTION.toString('latin1').replace('Ignore all previous instructions', '[REDACTED: Prompt Injection]'), 'latin1')
    assert.equal(r.bytes.toString('hex'), want.toString('hex'))
  })

  it('denied: the held /fetch answers 403 prompt_injection', async () => {
    const held = rawHttp(proxy.port, {path: fetchUrl, timeoutMs: HELD_MS})
    const id = await pendingId(proxy)
    const d = ask(proxy, 'deny', id, '--by', 'bob')
    assert.equal(d.status, 0, d.stderr)
    assert.equal(d.stdout, `denied ${id}\n`)
    const r = await held
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.match(r.body, /response blocked by operator/)
    await until(async () => evidenceText(dir).includes(id), 10_000)
    assert.match(evidenceText(dir), new RegExp(`defer_id\\\\?":\\\\?"${id}\\\\?",\\\\?"resolution_policy\\\\?":\\\\?"hitl:deny\\\\?",\\\\?"resolution_source\\\\?":\\\\?"operator:bob`))
  })

  it('a tainted session: its POST is held, and released by an approval', async () => {
    const base = `http://127.0.0.1:${up.port}`
    // Another client host: an unbound name is judged by the most tainted session of its host (all
    // of loopback is one), and the /fetch calls above read an injection from 127.0.0.1 (a block,
    // not an ask, would judge it).
    const fwd = (p: string, method = 'GET') => rawHttp(proxy.port, {method, path: `${base}${p}`, headers: {'X-Pipelock-Agent': 'writer'}, from: otherHostAddress(), timeoutMs: HELD_MS})
    assert.equal((await fwd('/page')).status, 200)
    const held = fwd('/upload', 'POST')
    // Few CLI runs while the request is held: the client gives up on a socket idle for 10 s.
    const h = await pending(proxy)
    const id = h.id
    assert.deepEqual([h.kind, h.reason, h.preview], ['taint', 'external_publish_after_untrusted_external_exposure', `POST ${base}/upload`])
    // The table, exactly (AGE pinned by PIPELOCK_CLI_NOW).
    const human = runCli(['ask', 'list', '--api-url', `127.0.0.1:${proxy.port}`], {env: {...ENV, PIPELOCK_CLI_NOW: h.created_at}})
    const rows = [['ID', 'AGE', 'KIND', 'AGENT', 'TARGET', 'REASON'], [id, '0s', 'taint', 'writer', `${base}/upload`, 'external_publish_after_untrusted_external_exposure']]
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    assert.equal(human.stdout, rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 2))).join('')).join('\n') + '\n')
    assert.equal(ask(proxy, 'approve', id, '--by', 'carol').status, 0)
    assert.equal((await held).status, 200)
    await until(async () => evidenceText(dir).includes(id), 10_000)
    assert.match(evidenceText(dir), /authority_kind\\?":\\?"operator_override\\?",\\?"taint_decision\\?":\\?"ask/)
    const v = runCli(['verify-receipt', '--chain', path.join(dir, 'evidence'), '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
  })

  it('list --all shows the answered ones with their status', () => {
    const r = ask(proxy, 'list', '--all', '--json')
    const statuses = (JSON.parse(r.stdout) as {approvals: Array<{status: string}>}).approvals.map((a) => a.status)
    assert.deepEqual(statuses, ['allowed', 'stripped', 'stripped', 'denied', 'allowed'])
  })
})

describe('pipelock ask: held responses on the forward proxy, inside intercepted tunnels and on the reverse proxy', {timeout: 120_000}, () => {
  let up: Upstream
  let tlsUp: Upstream
  let proxy: RunningProxy
  let dir: string
  let ca: string
  let reversePort = 0
  const receipt = (id: string, answer: string, who: string): RegExp =>
    new RegExp(`defer_id\\\\?":\\\\?"${id}\\\\?",\\\\?"resolution_policy\\\\?":\\\\?"hitl:${answer}\\\\?",\\\\?"resolution_source\\\\?":\\\\?"operator:${who}`)
  before(async () => {
    dir = tempDir('pipelock-ask-transports-')
    up = await startHttpUpstream()
    const upTls = makeSelfSignedCert(dir)
    tlsUp = await startHttpsUpstream(upTls)
    writeReceiptKeys(dir, keyPairFromSeed(createHash('sha256').update('pipelock-e2e-ask-key').digest()))
    const intercepting = interceptingWebSocketConfig(dir)
    ca = intercepting.ca
    const cfg = intercepting.config + [
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'response_scanning:', '  action: ask', '  ask_timeout_seconds: 60',
      'kill_switch:', `  api_token: ${TOKEN}`,
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`, `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
    ].join('\n') + '\n'
    proxy = await startProxy(cfg, {dir, env: {NODE_EXTRA_CA_CERTS: upTls.certPath}, args: ['--reverse-proxy', '--reverse-upstream', `http://127.0.0.1:${up.port}`, '--reverse-listen', '127.0.0.1:0']})
    reversePort = reverseListenPort(proxy)
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    await tlsUp?.close()
  })

  const forward = () => rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/injection`, headers: {'X-Pipelock-Agent': 'fwd'}, timeoutMs: HELD_MS})
  const intercepted = async (): Promise<string> => {
    const s = await tlsThroughProxy(proxy.port, `127.0.0.1:${tlsUp.port}`, ca)
    try {
      return await tlsExchange(s, `GET /injection HTTP/1.1\r\nHost: 127.0.0.1:${tlsUp.port}\r\nConnection: close\r\n\r\n`)
    } finally {
      s.destroy()
    }
  }

  it('forward proxy, approved: the original page is relayed, and the receipt names the approval', async () => {
    const held = forward()
    const h = await pending(proxy)
    assert.deepEqual([h.kind, h.reason.startsWith('prompt injection detected: ')], ['response', true])
    assert.equal(ask(proxy, 'approve', h.id, '--by', 'alice').stdout, `approved ${h.id} (allow)\n`)
    const r = await held
    assert.equal(r.status, 200)
    assert.match(r.body, /Ignore all previous instructions/)
    assert.ok(await until(async () => receipt(h.id, 'allow', 'alice').test(evidenceText(dir)), 10_000), 'signed receipt of the answer')
  })

  it('forward proxy, denied: 403 prompt_injection saying the operator blocked it', async () => {
    const held = forward()
    const h = await pending(proxy)
    assert.equal(ask(proxy, 'deny', h.id, '--by', 'bob').status, 0)
    const r = await held
    assert.equal(r.status, 403)
    assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.match(r.body, /^blocked: response blocked by operator: /)
    assert.ok(await until(async () => receipt(h.id, 'deny', 'bob').test(evidenceText(dir)), 10_000))
  })

  it('intercepted tunnel, stripped and denied', async () => {
    const held = intercepted()
    const h = await pending(proxy)
    assert.equal(JSON.parse(ask(proxy, 'show', h.id, '--json').stdout).transport, 'intercept')
    assert.equal(ask(proxy, 'approve', h.id, '--strip', '--by', 'carol').status, 0)
    const r = await held
    assert.match(r, /^HTTP\/1\.1 200 /)
    assert.doesNotMatch(r, /Ignore all previous instructions/)
    assert.ok(await until(async () => receipt(h.id, 'strip', 'carol').test(evidenceText(dir)), 10_000))

    const held2 = intercepted()
    const h2 = await pending(proxy)
    assert.equal(ask(proxy, 'deny', h2.id, '--by', 'dave').status, 0)
    const denied = await held2
    assert.match(denied, /^HTTP\/1\.1 403 /)
    assert.match(denied, /X-Pipelock-Block-Reason: prompt_injection\r\n/i)
    assert.ok(await until(async () => receipt(h2.id, 'deny', 'dave').test(evidenceText(dir)), 10_000))
  })

  it('intercepted tunnel, approved: the original page', async () => {
    const held = intercepted()
    const h = await pending(proxy)
    assert.equal(ask(proxy, 'approve', h.id, '--by', 'erin').status, 0)
    const r = await held
    assert.match(r, /^HTTP\/1\.1 200 /)
    assert.match(r, /Ignore all previous instructions/)
  })

  it('reverse proxy, approved then denied', async () => {
    const held = rawHttp(reversePort, {path: '/injection', timeoutMs: HELD_MS})
    const h = await pending(proxy)
    assert.equal(JSON.parse(ask(proxy, 'show', h.id, '--json').stdout).transport, 'reverse')
    assert.equal(ask(proxy, 'approve', h.id, '--by', 'frank').status, 0)
    const r = await held
    assert.equal(r.status, 200)
    assert.match(r.body, /Ignore all previous instructions/)
    const held2 = rawHttp(reversePort, {path: '/injection', timeoutMs: HELD_MS})
    const h2 = await pending(proxy)
    assert.equal(ask(proxy, 'deny', h2.id).status, 0)
    const d = await held2
    assert.equal(d.status, 403)
    assert.match(d.body, /response blocked by operator/)
    const v = runCli(['verify-receipt', '--chain', path.join(dir, 'evidence'), '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
  })
})

describe('pipelock ask: adaptive enforcement blocks an ask at a level with upgrade_ask: block', {timeout: 60_000}, () => {
  it('a session escalated to high is refused at once; another session is held', async () => {
    const up = await startHttpUpstream()
    const dir = tempDir('pipelock-ask-adaptive-')
    const proxy = await startProxy([
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'forward_proxy:', '  enabled: true',
      'response_scanning:', '  action: ask', '  ask_timeout_seconds: 60',
      'session_profiling:', '  enabled: true',
      'adaptive_enforcement:', '  enabled: true',
      'kill_switch:', `  api_token: ${TOKEN}`,
    ].join('\n') + '\n', {dir})
    try {
      const fwd = (url: string, agent: string) => rawHttp(proxy.port, {path: url, headers: {'X-Pipelock-Agent': agent}, timeoutMs: HELD_MS})
      // Four blocklist blocks (3.0 each): 6 ≥ 5 → elevated, 12 ≥ 10 → high (upgrade_ask: block by default).
      for (let i = 0; i < 4; i++) assert.equal((await fwd(`http://x${i}.pastebin.com/`, 'rogue')).status, 403)
      const r = await fwd(`http://127.0.0.1:${up.port}/injection`, 'rogue')
      assert.equal(r.status, 403)
      assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
      assert.match(r.body, /^blocked: response contains injection: .* \(ask upgraded to block at escalation level high\)\n$/)
      // /fetch refuses it the same way, for the same session.
      const f = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection`)}`, headers: {'X-Pipelock-Agent': 'rogue'}})
      assert.equal(f.status, 403)
      assert.equal(f.headers['x-pipelock-block-reason'], 'prompt_injection')
      assert.match(f.body, /ask upgraded to block at escalation level high/)
      assert.equal(ask(proxy, 'list').stdout, 'No pending approvals.\n', 'nothing was held')
      // A session at level normal is still asked.
      const held = fwd(`http://127.0.0.1:${up.port}/injection`, 'calm')
      const id = await pendingId(proxy)
      assert.equal(ask(proxy, 'deny', id).status, 0)
      assert.equal((await held).status, 403)
    } finally {
      await proxy.stop()
      await up.close()
    }
  })
})

describe('pipelock ask: a held request nobody answers is denied at ask_timeout_seconds', {timeout: 60_000}, () => {
  it('timed out: 403, the approval is expired and a late answer is refused', async () => {
    const up = await startHttpUpstream()
    const dir = tempDir('pipelock-ask-timeout-')
    writeReceiptKeys(dir, keyPairFromSeed(createHash('sha256').update('pipelock-e2e-ask-key').digest()))
    const proxy = await startProxy(config(dir, 1), {dir})
    try {
      const r = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/injection`)}`})
      assert.equal(r.status, 403)
      assert.match(r.body, /no operator answer: timed out/)
      const l = JSON.parse(ask(proxy, 'list', '--all', '--json').stdout) as {approvals: Array<{id: string; status: string}>}
      assert.equal(l.approvals[0]!.status, 'expired')
      const late = ask(proxy, 'approve', l.approvals[0]!.id)
      assert.notEqual(late.status, 0)
      assert.match(late.stderr, /approval expired/)
      await until(async () => evidenceText(dir).includes('hitl:timeout'), 10_000)
      assert.match(evidenceText(dir), /resolution_policy\\?":\\?"hitl:timeout\\?",\\?"resolution_source\\?":\\?"pipelock/)
    } finally {
      await proxy.stop()
      await up.close()
    }
  })
})

describe('pipelock run and check: ask without an operator channel refuses to start', {timeout: 30_000}, () => {
  it('no API token: refused with the reason', () => {
    const msg = 'config sets response_scanning.action: ask but no operator channel is configured (the admin API needs kill_switch.api_token or PIPELOCK_KILLSWITCH_API_TOKEN); refusing to start'
    assertRefusesToStart('response_scanning:\n  action: ask\n', msg)
    const file = path.join(tempDir(), 'ask.yaml')
    writeFileSync(file, 'response_scanning:\n  action: ask\n')
    const c = runCli(['check', '--config', file, '--json'], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: ''}})
    assert.equal(JSON.parse(c.stdout).refusal, msg)
    const text = runCli(['check', '--config', file], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: ''}})
    assert.equal(text.status, 1)
    assert.match(text.stdout, /^Config validation: OK as written, but pipelock run refuses to start with it \(see Refused\)\n/)
    assert.match(text.stdout, /\n  Refused:        a setting inside an enabled section \(pipelock run refuses to start; the reason is on stderr\)\n$/)
    assert.equal(text.stderr, `${msg}\n`)
  })
})
