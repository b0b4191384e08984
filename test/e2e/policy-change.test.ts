/**
 * operations.md §8.2 / §10.2 [beyond]: an allowlist edit with a change note and SIGHUP writes a
 * `config_change` audit event with the `add` entry, both hashes and the operator's note; an edit
 * made while stopped is recorded at the next start (`trigger: startup`) with `--change-note`.
 */
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {rawHttp, startHttpUpstream, startProxy, tempDir, until} from './proxy-harness.js'

const key = keyPairFromSeed(createHash('sha256').update('pipelock-e2e-config-change-key').digest())

const base = (allow: string[], dir: string): string => [
  `api_allowlist: [${allow.join(', ')}]`,
  'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
  `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
].join('\n') + '\n'

const changeEvents = (out: string): Array<Record<string, unknown>> =>
  out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'config_change')

describe('policy-change trail', {timeout: 60_000}, () => {
  it('SIGHUP after an allowlist edit: config_change with the diff, hashes and the change note', async () => {
    const dir = tempDir('pipelock-change-')
    writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(key)), {mode: 0o600})
    writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(key.publicKey))
    const proxy = await startProxy(base(['a.example'], dir), {dir})
    try {
      assert.equal(changeEvents(proxy.stdout()).length, 0, 'a first start has nothing to compare with')
      const cfg = path.join(dir, 'pipelock.yaml')
      writeFileSync(cfg, base(['a.example', 'b.example'], dir))
      const sha = createHash('sha256').update(readFileSync(cfg)).digest('hex')
      writeFileSync(`${cfg}.change`, JSON.stringify({operator: 'didericis', justification: 'billing agent needs b.example', change_id: 'CHG-7', file_sha256: sha}))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => changeEvents(proxy.stdout()).length > 0, 5000), proxy.stderr())
      const ev = changeEvents(proxy.stdout())[0]!
      assert.equal(ev.trigger, 'sighup')
      assert.equal(ev.outcome, 'applied')
      assert.equal(ev.level, 'warn')
      assert.deepEqual(ev.changes, [{path: 'api_allowlist', op: 'add', new: 'b.example'}])
      assert.equal(ev.new_file_sha256, sha)
      assert.notEqual(ev.prior_policy_hash, ev.new_policy_hash)
      assert.match(String(ev.new_policy_hash), /^sha256:[0-9a-f]{64}$/)
      assert.equal(ev.operator, 'didericis')
      assert.equal(ev.justification, 'billing agent needs b.example')
      assert.equal(ev.change_id, 'CHG-7')
      assert.ok(existsSync(`${cfg}.change.applied`), 'the note is consumed')
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    // Edited while stopped: recorded at the next start, with --change-note.
    writeFileSync(path.join(dir, 'pipelock.yaml'), base(['b.example'], dir))
    const again = await startProxy(base(['b.example'], dir), {dir, args: ['--change-note', 'drop a.example after the migration']})
    try {
      const ev = changeEvents(again.stdout())
      assert.equal(ev.length, 1)
      assert.equal(ev[0]!.trigger, 'startup')
      assert.deepEqual(ev[0]!.changes, [{path: 'api_allowlist', op: 'remove', old: 'a.example'}])
      assert.equal(ev[0]!.justification, 'drop a.example after the migration')
    } finally {
      assert.equal(await again.stop(), 0)
    }
    // With a signing key each change is also a signed EvidenceReceipt v2 `config_change` in the
    // recorder's v2 chain, continued across the restart; verify-receipt accepts the chain.
    const evidence = path.join(dir, 'evidence')
    const lines = readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
    const receipts = lines.map((l) => JSON.parse(l) as {type: string; event_kind?: string; detail?: Record<string, unknown>}).filter((e) => e.type === 'evidence_receipt')
    const kinds = receipts.map((e) => (e.detail as {payload_kind: string}).payload_kind)
    assert.deepEqual(kinds, ['config_change', 'config_change'])
    const first = receipts[0]!.detail as {actor: string; chain_seq: number; payload: Record<string, unknown>}
    assert.equal(first.actor, 'didericis')
    assert.equal(first.payload.trigger, 'sighup')
    assert.deepEqual(first.payload.changed_paths, ['api_allowlist'])
    assert.equal((receipts[1]!.detail as {chain_seq: number}).chain_seq, 1)
    const r = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(r.status, 0, r.stdout + r.stderr)
    assert.equal(JSON.parse(r.stdout).valid, true)
  })
})

describe('the last applied state on a disk that stops taking bytes', {timeout: 60_000}, () => {
  it('a start that cannot write config-state.json keeps the previous state whole: the next start still records the edit made while stopped', async () => {
    const dir = signedDir('pipelock-change-full-')
    const state = path.join(dir, 'evidence', 'config-state.json')
    const first = await startProxy(base(['a.example'], dir), {dir})
    assert.equal(await first.stop(), 0)
    const kept = readFileSync(state)
    // The state holds the whole effective policy (several KiB); a 1 KiB limit cuts it.
    assert.ok(kept.length > 2048, `config-state.json is ${kept.length} bytes`)
    const full = await startProxy(base(['b.example'], dir), {dir, fileSizeLimitKiB: 1})
    try {
      assert.deepEqual(changeEvents(full.stdout()).map((e) => e.trigger), ['startup'])
      assert.ok(await until(async () => full.stderr().includes(`WARNING: config change: cannot write ${state}: `), 5000), full.stderr())
    } finally {
      assert.equal(await full.stop(), 0)
    }
    assert.deepEqual(readFileSync(state), kept, 'the previous state, whole')
    assert.deepEqual(readdirSync(path.dirname(state)).filter((f) => f.includes('config-state')), ['config-state.json'])
    const again = await startProxy(base(['b.example'], dir), {dir})
    try {
      const ev = changeEvents(again.stdout())
      assert.equal(ev.length, 1, again.stdout())
      assert.equal(ev[0]!.trigger, 'startup')
      assert.deepEqual(ev[0]!.changes, [{path: 'api_allowlist', op: 'add', new: 'b.example'}, {path: 'api_allowlist', op: 'remove', old: 'a.example'}])
    } finally {
      assert.equal(await again.stop(), 0)
    }
  })
})

describe('a config-state.json of another shape', {timeout: 60_000}, () => {
  it('is named and read as no earlier state; the proxy serves and writes it again; check says nothing of a running policy', async () => {
    const dir = signedDir('pipelock-change-damaged-')
    const state = path.join(dir, 'evidence', 'config-state.json')
    const cfg = path.join(dir, 'pipelock.yaml')
    const first = await startProxy(base(['a.example'], dir), {dir})
    assert.equal(await first.stop(), 0)
    // `null` and `{"file_sha256":1}` stopped the start-up with an internal error after the banner,
    // and the process stayed up with its listeners open; `check` died on `null` as well.
    for (const [text, why] of [['null', 'not a JSON object'], ['[]', 'not a JSON object'], ['{"file_sha256":1}', 'file_sha256 is not a string'], ['{"file_sha256":"a","policy_hash":"b","effective":{},"drift":null}', 'drift is not a drift record'], ['{"file_sha2', 'not JSON']]) {
      writeFileSync(state, text)
      const c = runCli(['check', '--config', cfg])
      assert.equal(c.status, 0, c.stdout + c.stderr)
      assert.doesNotMatch(c.stdout, /Running:/)
      const p = await startProxy(base(['a.example'], dir), {dir})
      try {
        assert.ok(p.stderr().includes(`WARNING: config change: ${state} is damaged (${why}): read as no earlier state, so an edit made while pipelock was stopped is not recorded this time; it is written again now\n`), p.stderr())
        assert.equal((await rawHttp(p.port, {path: '/health'})).status, 200)
        assert.deepEqual(changeEvents(p.stdout()), [])
      } finally {
        assert.equal(await p.stop(), 0)
      }
      const again = JSON.parse(readFileSync(state, 'utf8')) as {file_sha256: string; policy_hash: string}
      assert.equal(again.file_sha256, sha256(cfg), text)
      assert.match(again.policy_hash, /^sha256:[0-9a-f]{64}$/)
    }
  })
})

// Issue 34: a note binds to the change it describes (by the config file's SHA-256), never to another.
const TOKEN = 'e2e-policy-note-token'
const noteConfig = (dir: string, allow: string[], rpm = 100000, mode = 'balanced'): string => [
  `mode: ${mode}`,
  `api_allowlist: [${allow.join(', ')}]`,
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'fetch_proxy:', '  monitoring:', `    max_requests_per_minute: ${rpm}`,
  'kill_switch:', `  api_token: ${TOKEN}`,
  'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`,
  `  signing_key_path: ${JSON.stringify(path.join(dir, 'receipt.key'))}`,
].join('\n') + '\n'

function signedDir(prefix: string): string {
  const dir = tempDir(prefix)
  writeFileSync(path.join(dir, 'receipt.key'), encodePrivateKeyText(goPrivateKey(key)), {mode: 0o600})
  writeFileSync(path.join(dir, 'receipt.pub'), encodePublicKeyText(key.publicKey))
  return dir
}

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex')

function note(port: number, args: string[]): {status: number | null; stdout: string; stderr: string} {
  return runCli(['policy', 'note', ...args, '--api-url', `127.0.0.1:${port}`], {env: {PIPELOCK_KILLSWITCH_API_TOKEN: TOKEN, PIPELOCK_API_URL: '', PIPELOCK_CONFIG: ''}})
}

describe('change notes bind to the change they describe', {timeout: 90_000}, () => {
  it('edit then note (the watcher applied first), two edits with one note, a note for a file not loaded yet, a .change after the watcher', async () => {
    const dir = signedDir('pipelock-note-')
    const cfg = path.join(dir, 'pipelock.yaml')
    const proxy = await startProxy(noteConfig(dir, ['a.example']), {dir})
    const changes = (): Array<Record<string, unknown>> => changeEvents(proxy.stdout())
    const waitFor = async (n: number): Promise<void> => assert.ok(await until(async () => changes().length >= n, 15000), proxy.stdout() + proxy.stderr())
    try {
      // 1. Edit; the file watcher applies it with nobody's name on it.
      writeFileSync(cfg, noteConfig(dir, ['a.example', 'b.example']))
      await waitFor(1)
      assert.deepEqual([changes()[0]!.trigger, changes()[0]!.outcome, changes()[0]!.operator], ['file_watch', 'applied', undefined])
      // The note that follows attests exactly that change.
      const r = note(proxy.port, ['--operator', 'alice', '--justification', 'billing agent needs b.example', '--change-id', 'CHG-7'])
      assert.equal(r.stderr, '')
      assert.match(r.stdout, /^change note attached: operator=alice change_id=CHG-7\nattests the file_watch change of \S+ that loaded the config file in force \(api_allowlist\)\n$/)
      await waitFor(2)
      const [edit, attest] = changes()
      assert.deepEqual(
        [attest!.trigger, attest!.outcome, attest!.operator, attest!.change_id, attest!.attested_trigger, attest!.new_file_sha256, attest!.new_policy_hash, attest!.changes],
        ['api', 'attested', 'alice', 'CHG-7', 'file_watch', edit!.new_file_sha256, edit!.new_policy_hash, [{path: 'api_allowlist', op: 'add', new: 'b.example'}]],
      )
      // A second note for the same change has nothing to attach to: refused, not kept for the next change.
      const again = note(proxy.port, ['--operator', 'bob', '--justification', 'late'])
      assert.equal(again.status, 1)
      assert.match(again.stderr, /^admin API error on POST \/api\/v1\/policy\/change-note \(HTTP 409\): nothing to attach the note to: the file in force \(sha256 [0-9a-f]{12}…\) was loaded by a change that has a note; save the edit first, or name the new file with --file \[ADMIN_API_HTTP_ERROR\]\n$/)

      // 2. Two edits, one note: the note attests the second (the file in force); the first stays without one.
      writeFileSync(cfg, noteConfig(dir, ['a.example', 'b.example'], 5000))
      await waitFor(3)
      writeFileSync(cfg, noteConfig(dir, ['b.example'], 5000))
      await waitFor(4)
      assert.equal(note(proxy.port, ['--operator', 'carol', '--justification', 'drop a.example']).status, 0)
      await waitFor(5)
      assert.deepEqual(changes().slice(2).map((e) => [e.trigger, e.outcome, e.operator ?? null, (e.changes as Array<{path: string}>).map((c) => c.path).join()]), [
        ['file_watch', 'applied', null, 'fetch_proxy.monitoring.max_requests_per_minute'],
        ['file_watch', 'applied', null, 'api_allowlist'],
        ['api', 'attested', 'carol', 'api_allowlist'],
      ])

      // 3. Note first, for a new version not installed yet: an unrelated edit in between does not get it.
      const next = path.join(dir, 'next.yaml')
      writeFileSync(next, noteConfig(dir, ['b.example', 'c.example'], 5000))
      const pending = note(proxy.port, ['--operator', 'dave', '--justification', 'agent needs c.example', '--file', next])
      assert.equal(pending.stderr, '')
      assert.match(pending.stdout, new RegExp(`^change note pending until \\S+: operator=dave\\nthe reload that loads the config file sha256 ${sha256(next).slice(0, 12)}… records it \\(config_change event and receipt\\); any other change does not\\n$`))
      writeFileSync(cfg, noteConfig(dir, ['b.example'], 6000))
      await waitFor(6)
      assert.equal(changes()[5]!.operator, undefined, 'the rate-limit edit is not the change the note describes')
      writeFileSync(cfg, readFileSync(next))
      await waitFor(7)
      assert.deepEqual([changes()[6]!.operator, changes()[6]!.new_file_sha256, changes()[6]!.changes], ['dave', sha256(next), [
        {path: 'api_allowlist', op: 'add', new: 'c.example'},
        {path: 'fetch_proxy.monitoring.max_requests_per_minute', op: 'set', old: 6000, new: 5000},
      ]])

      // 4. The documented order with a .change file: the watcher applies the edit, the .change + SIGHUP attests it.
      writeFileSync(cfg, noteConfig(dir, ['c.example'], 5000))
      await waitFor(8)
      writeFileSync(`${cfg}.change`, JSON.stringify({operator: 'erin', justification: 'b.example retired', file_sha256: sha256(cfg)}))
      proxy.proc.kill('SIGHUP')
      await waitFor(9)
      assert.deepEqual([changes()[8]!.trigger, changes()[8]!.outcome, changes()[8]!.operator, changes()[8]!.new_file_sha256], ['sighup', 'attested', 'erin', sha256(cfg)])
      assert.ok(existsSync(`${cfg}.change.applied`))
      assert.equal(changes().length, 9)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
    // Every record, attestations included, is a signed config_change receipt in a chain that verifies.
    const evidence = path.join(dir, 'evidence')
    const outcomes = readdirSync(evidence).filter((f) => f.endsWith('.jsonl')).sort().flatMap((f) => readFileSync(path.join(evidence, f), 'utf8').trim().split('\n'))
      .map((l) => JSON.parse(l) as {type: string; detail?: {payload_kind: string; actor: string; payload: Record<string, unknown>}})
      .filter((e) => e.type === 'evidence_receipt' && e.detail?.payload_kind === 'config_change').map((e) => `${String(e.detail!.payload.outcome)} ${e.detail!.actor}`)
    assert.deepEqual(outcomes, ['applied pipelock', 'attested alice', 'applied pipelock', 'applied pipelock', 'attested carol', 'applied pipelock', 'applied dave', 'applied pipelock', 'attested erin'])
    const v = runCli(['verify-receipt', '--chain', evidence, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
  })

  it('strict mode: a loosening is refused and the drift is visible (/health, metric, check); with an operator note it applies without a restart', async () => {
    const dir = signedDir('pipelock-strict-note-')
    const cfg = path.join(dir, 'pipelock.yaml')
    const up = await startHttpUpstream()
    const proxy = await startProxy(noteConfig(dir, ['a.example'], 100000, 'strict'), {dir})
    const target = `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${up.port}/kib`)}`
    try {
      const blocked = await rawHttp(proxy.port, {path: target})
      assert.equal(blocked.status, 403)
      assert.equal(blocked.headers['x-pipelock-block-reason'], 'domain_not_allowlisted')
      // Without a note: refused, and every surface says the file and the running policy differ.
      writeFileSync(cfg, noteConfig(dir, ['a.example', '127.0.0.1'], 100000, 'strict'))
      assert.ok(await until(async () => changeEvents(proxy.stdout()).length === 1, 15000), proxy.stderr())
      const rej = changeEvents(proxy.stdout())[0]!
      assert.equal(rej.outcome, 'rejected')
      // The entry names what the refused file asked for, not only why it was refused.
      assert.deepEqual([rej.message, rej.changes], ['policy rejected (file_watch): 1 change(s)', [{path: 'api_allowlist', op: 'add', new: '127.0.0.1'}]])
      assert.match(String(rej.reject_reason), /^rejected: security downgrade from strict mode \(api_allowlist: added 127\.0\.0\.1\); to apply it without a restart, attach an operator note to this file/)
      const health = JSON.parse((await rawHttp(proxy.port, {path: '/health'})).body)
      assert.equal(health.status, 'healthy')
      assert.equal(health.config_in_sync, false)
      assert.deepEqual([health.config_drift.file_sha256, health.config_drift.reason], [sha256(cfg), rej.reject_reason])
      assert.match((await rawHttp(proxy.port, {path: '/metrics'})).body, /^pipelock_config_drift 1$/m)
      const check = runCli(['check', '--config', cfg])
      assert.equal(check.status, 0, check.stderr)
      assert.match(check.stdout, /\n {2}Running: {8}DIFFERS from this file \(running sha256 [0-9a-f]{12}…, file [0-9a-f]{12}…\): a reload refused it: rejected: security downgrade from strict mode/)
      assert.match(check.stderr, /WARNING: the running proxy refused this file; its policy differs from the file/)
      assert.equal((await rawHttp(proxy.port, {path: target})).status, 403, 'the running policy is still the old one')

      // With the operator's note bound to the file: applied now, recorded with the note and the downgrade.
      const r = note(proxy.port, ['--operator', 'alice', '--justification', 'local test upstream (CHG-9)', '--reload'])
      assert.deepEqual(r, {status: 0, stdout: 'reload requested (change note attached)\n', stderr: ''})
      assert.ok(await until(async () => changeEvents(proxy.stdout()).length === 2, 15000), proxy.stderr())
      const ok = changeEvents(proxy.stdout())[1]!
      assert.deepEqual([ok.trigger, ok.outcome, ok.operator, ok.downgrades, ok.new_file_sha256], ['sighup', 'applied', 'alice', ['api_allowlist: added 127.0.0.1'], sha256(cfg)])
      // The operator sees the loosening on stderr once, not once per listener of the reload.
      const said = proxy.stderr().split('\n').filter((l) => l === 'WARNING: config reload: security downgrade: api_allowlist: added 127.0.0.1')
      assert.equal(said.length, 1, proxy.stderr())
      assert.equal((await rawHttp(proxy.port, {path: target})).status, 200)
      const healed = JSON.parse((await rawHttp(proxy.port, {path: '/health'})).body)
      assert.equal(healed.config_drift, undefined)
      assert.match((await rawHttp(proxy.port, {path: '/metrics'})).body, /^pipelock_config_drift 0$/m)
      assert.match(runCli(['check', '--config', cfg]).stdout, /\n {2}Running: {8}the running proxy's policy is this file\n/)
      assert.deepEqual(JSON.parse(runCli(['check', '--config', cfg, '--json']).stdout).running_policy, {running: true, pid: proxy.proc.pid, in_sync: true, file_sha256: sha256(cfg), running_file_sha256: sha256(cfg)})
    } finally {
      assert.equal(await proxy.stop(), 0)
      await up.close()
    }
    // config-state.json outlives the proxy: check no longer calls it running
    const stopped = runCli(['check', '--config', cfg])
    assert.match(stopped.stdout, /\n {2}Running: {8}no proxy is running \(the last run used this file\)\n/)
    assert.equal(JSON.parse(runCli(['check', '--config', cfg, '--json']).stdout).running_policy.running, false)
    writeFileSync(cfg, noteConfig(dir, ['a.example', '127.0.0.1', 'b.example'], 100000, 'strict'))
    assert.match(runCli(['check', '--config', cfg]).stdout, /\n {2}Running: {8}no proxy is running \(the last run used another version of this file: sha256 [0-9a-f]{12}…, file [0-9a-f]{12}…\)\n/)
  })
})
