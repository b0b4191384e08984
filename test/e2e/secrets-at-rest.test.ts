// Secrets at rest: a secret the proxy caught is never written in clear — not in the audit log
// (file and stdout), the flight recorder (receipts, config state) nor the emitters — whether the
// finding was enforced or only logged (`enforce: false`). The built `pipelock run`, real sockets,
// a real webhook receiver; the test reads every file the proxy wrote.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {rawExchange, rawHttp, startHttpUpstream, startProxy, startRoutedUpstream, tempDir, until, writeReceiptKeys, type RunningProxy, type Upstream} from './proxy-harness.js'

// A GitHub token as a DNS label (lower-cased, as a host is): the core DLP pattern matches it.
const TOKEN_HOST_LABEL = ['ghp', '_zq8vn3xkp2lmr7tyw4hcb9sjd6fga1euo5vi'].join('')
// The webhook's URL carries its credential, as many do: it must not be written either.
const HOOK_KEY = ['hk', '7f3a9c2e5b8d1f4a6c0e'].join('')
const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-secrets-at-rest').digest())

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]))
}

describe('secrets at rest: what pipelock run writes never holds a caught secret in clear', {timeout: 60_000}, () => {
  let up: Upstream
  let hook: Upstream
  const hookBodies: string[] = []
  const cleanups: (() => Promise<unknown>)[] = []

  before(async () => {
    up = await startHttpUpstream()
    hook = await startRoutedUpstream((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString('utf8')))
      req.on('end', () => {
        hookBodies.push(body)
        res.end('ok')
      })
    })
  })
  after(async () => {
    for (const c of cleanups.reverse()) await c()
    await up.close()
    await hook.close()
  })

  /** A proxy with the JSON audit log in a file and on stdout, signed receipts and a webhook for every severity. */
  async function start(extra: string[]): Promise<{proxy: RunningProxy; dir: string}> {
    const dir = tempDir('pipelock-at-rest-')
    writeReceiptKeys(dir, key)
    const proxy = await startProxy([
      'forward_proxy: {enabled: true}',
      `logging: {format: json, output: both, file: ${JSON.stringify(path.join(dir, 'audit.jsonl'))}}`,
      'flight_recorder:',
      '  enabled: true',
      `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
      `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
      `emit: {webhook: {url: "http://127.0.0.1:${hook.port}/hook?key=${HOOK_KEY}", min_severity: info}}`,
      ...extra,
    ].join('\n') + '\n', {dir})
    cleanups.push(() => proxy.stop())
    return {proxy, dir}
  }

  /** What the proxy wrote: its files (the config it was given aside), its stdout and stderr and the webhook bodies; none holds the webhook's key. */
  function written(p: RunningProxy, dir: string): {name: string; text: string}[] {
    const files = filesUnder(dir).filter((f) => path.basename(f) !== 'pipelock.yaml')
    const all = [...files.map((f) => ({name: path.relative(dir, f), text: readFileSync(f, 'utf8')})), {name: 'stdout', text: p.stdout()}, {name: 'stderr', text: p.stderr()}, {name: 'webhook', text: hookBodies.join('\n')}]
    for (const w of all) assert.ok(!w.text.includes(HOOK_KEY), `${w.name} holds the webhook URL's key in clear`)
    return all
  }

  it('audit mode: a CONNECT whose host carries a token is logged, recorded and emitted with the target redacted', async () => {
    // The token host resolves (an override to the local upstream): the tunnel is admitted and
    // dialled, then refused for carrying no TLS, so the lines after the gate are written too.
    const {proxy, dir} = await start([
      'enforce: false',
      'ssrf: {ip_allowlist: ["127.0.0.1/32"]}',
      `dns: {host_overrides: {"${TOKEN_HOST_LABEL}.example.test": ["127.0.0.1"]}}`,
    ])
    const got = await rawExchange(proxy.port, `CONNECT ${TOKEN_HOST_LABEL}.example.test:${up.port} HTTP/1.1\r\nHost: x\r\n\r\n`, {untilHeaders: true})
    assert.match(got, /^HTTP\/1\.1 200 /, 'enforce: false lets the tunnel open')
    assert.ok(await until(async () => proxy.stdout().includes('"event":"tunnel_plaintext"'), 5000), proxy.stdout())
    assert.ok(await until(async () => hookBodies.some((b) => b.includes('"type":"anomaly"')), 5000), hookBodies.join('\n'))
    await proxy.stop()
    const anomaly = proxy.stdout().split('\n').find((l) => l.includes('"event":"anomaly"'))
    assert.ok(anomaly !== undefined, proxy.stdout())
    assert.equal(JSON.parse(anomaly).target, 'https://[redacted]/[redacted]')
    const receipts = filesUnder(path.join(dir, 'evidence')).filter((f) => f.endsWith('.jsonl')).flatMap((f) => readFileSync(f, 'utf8').trim().split('\n'))
    const targets = receipts.map((l) => JSON.parse(l) as {type: string; detail: {action_record?: {target: string; verdict: string; transport: string}}}).filter((e) => e.type === 'action_receipt').map((e) => e.detail.action_record!).filter((r) => r.transport === 'connect')
    assert.ok(targets.length > 0, 'the tunnel left receipts')
    for (const r of targets) assert.equal(r.target, 'https://[redacted]/[redacted]', `${r.verdict} receipt`)
    // config-state.json is left out: it holds the operator's own config, whose DNS override names the host.
    for (const w of written(proxy, dir).filter((x) => path.basename(x.name) !== 'config-state.json')) {
      assert.ok(!w.text.toLowerCase().includes(TOKEN_HOST_LABEL.slice(4)), `${w.name} holds the token in clear`)
    }
  })

  it('a canary token value is masked in config-state.json and in the config_change diff of a reload', async () => {
    const canary = (v: string): string => `canary_tokens: {enabled: true, tokens: [{name: planted, value: "${v}"}]}`
    const first = ['AKIA', 'Q7RXMZ4HBNW2CANA'].join('')
    const second = ['AKIA', 'Q7RXMZ4HBNW2CANB'].join('')
    const {proxy, dir} = await start([canary(first)])
    const state = (): unknown => (JSON.parse(readFileSync(path.join(dir, 'evidence', 'config-state.json'), 'utf8')) as {effective: {canary_tokens: unknown}}).effective.canary_tokens
    assert.deepEqual(state(), {enabled: true, tokens: [{name: 'planted', value: '<set>'}]})
    // The operator rotates the canary and reloads: no line, receipt or state file names either value.
    const cfg = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(first, second))
    proxy.proc.kill('SIGHUP')
    assert.ok(await until(async () => proxy.stdout().includes('"event":"config_reload"'), 5000), proxy.stdout())
    await proxy.stop()
    assert.deepEqual(state(), {enabled: true, tokens: [{name: 'planted', value: '<set>'}]})
    for (const w of written(proxy, dir)) {
      for (const v of [first, second]) assert.ok(!w.text.includes(v), `${w.name} holds the canary value in clear`)
    }
  })

  it('a warn-only DLP pattern in a URL: the request goes on, and no line, receipt, emitted event or block body shows the URL in clear', async () => {
    const low = 'prb_' + 'abc'.repeat(6) + 'ab' // low entropy: only the warn pattern matches
    const high = 'prb_k3j9x8q2m7n4b6v1c5z0' // high entropy: the query-entropy check refuses it
    const {proxy, dir} = await start([
      'ssrf: {ip_allowlist: ["127.0.0.1/32"]}',
      'dlp: {patterns: [{name: Probe Token, regex: "prb_[a-z0-9]{20}", severity: high, action: warn}]}',
    ])
    const origin = `http://127.0.0.1:${up.port}`
    const allowed = await rawHttp(proxy.port, {path: `${origin}/kib?t=${low}`})
    assert.equal(allowed.status, 200)
    const refused = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`${origin}/kib?t=${high}`)}`})
    assert.equal(refused.status, 403)
    assert.equal(refused.headers['x-pipelock-block-reason'], 'path_entropy')
    assert.equal((JSON.parse(refused.body) as {url: string}).url, `${origin}/[redacted]`)
    assert.ok(await until(async () => proxy.stdout().split('"event":"dlp_warn"').length === 3, 5000), proxy.stdout())
    await proxy.stop()
    const warned = proxy.stdout().split('\n').filter((l) => l.includes('"event":"dlp_warn"')).map((l) => (JSON.parse(l) as {url: string; pattern: string}))
    assert.deepEqual(warned, [{...warned[0]!, url: `${origin}/[redacted]`, pattern: 'Probe Token'}, {...warned[1]!, url: `${origin}/[redacted]`, pattern: 'Probe Token'}])
    for (const w of written(proxy, dir)) {
      for (const v of [low, high]) assert.ok(!w.text.includes(v), `${w.name} holds the token in clear`)
    }
  })
})
