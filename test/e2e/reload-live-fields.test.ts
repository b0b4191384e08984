/**
 * A hot reload of the settings `pipelock run` once read only at start-up. The audit log's
 * destination (`logging.format/output/file`) and learn capture (`learn.enabled/capture_dir`)
 * switch for the next line and the next request. The flight recorder's fields are held: the reload
 * warns `requires restart, ignoring`, the recorder keeps writing where it did, and `/health`,
 * `/metrics` and `pipelock check` say the running proxy is not the file's until a restart. A
 * reload with tunnels open says how many keep their earlier admission, and one that sets a weak
 * admin token warns as start-up does.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {openTunnel, rawHttp, startHttpUpstream, startProxy, tcpUpstream, tempDir, until, type RunningProxy, type Upstream} from './proxy-harness.js'

let proxy: RunningProxy | undefined
let upstream: Upstream | undefined
after(async () => {
  await proxy?.stop()
  await upstream?.close()
})

const SECRET = `ghp_${'a'.repeat(36)}`

const config = (dir: string, o: {logging?: string[]; recorder?: string[]; learn?: string[]} = {}): string => [
  'forward_proxy:', '  enabled: true',
  'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]',
  ...(o.logging !== undefined ? ['logging:', ...o.logging.map((l) => `  ${l}`)] : []),
  'flight_recorder:', '  enabled: true', `  dir: ${path.join(dir, 'frA')}`, ...(o.recorder ?? []).map((l) => `  ${l}`),
  ...(o.learn !== undefined ? ['learn:', ...o.learn.map((l) => `  ${l}`)] : []),
].join('\n') + '\n'

/** Lines of every `.jsonl` below `dir` (recursively) that contain `text`. */
function linesWith(dir: string, text: string): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (!e.isFile() || !e.name.endsWith('.jsonl')) continue
    out.push(...readFileSync(path.join(e.parentPath, e.name), 'utf8').split('\n').filter((l) => l.includes(text)))
  }
  return out
}

describe('hot reload of start-up settings', {timeout: 90_000}, () => {
  it('applies logging and capture changes live, holds the flight recorder and reports it', async () => {
    const dir = tempDir('pl-reload-live-')
    mkdirSync(path.join(dir, 'frA'), {mode: 0o700})
    mkdirSync(path.join(dir, 'frB'), {mode: 0o700})
    upstream = await startHttpUpstream()
    const cfg = path.join(dir, 'pipelock.yaml')
    proxy = await startProxy(config(dir), {dir})
    const p = proxy
    const fetch = async (tag: string, headers: Record<string, string> = {}): Promise<number> =>
      (await rawHttp(p.port, {path: `http://127.0.0.1:${upstream!.port}/${tag}`, headers})).status
    const reload = async (yaml: string, done: () => boolean): Promise<void> => {
      writeFileSync(cfg, yaml)
      p.proc.kill('SIGHUP')
      assert.ok(await until(async () => done(), 10_000), p.stderr())
    }
    const health = async (): Promise<Record<string, unknown>> => JSON.parse((await rawHttp(p.port, {path: '/health'})).body) as Record<string, unknown>

    // Live: logging.format text, on stdout, from the next line.
    assert.equal(await fetch('json-line'), 200)
    assert.ok(await until(async () => p.stdout().includes('"url":"http://127.0.0.1:' + upstream!.port + '/json-line"')), p.stdout())
    await reload(config(dir, {logging: ['format: text']}), () => p.stderr().includes('pipelock: config reload: audit log now goes to stdout (text)\n'))
    assert.equal(await fetch('text-line'), 200)
    assert.ok(await until(async () => / INF request allowed .*url=http:\/\/127\.0\.0\.1:\d+\/text-line/.test(p.stdout())), p.stdout())

    // Live: logging.output file, from the next line (stdout gets no more).
    const auditLog = path.join(dir, 'audit.log')
    await reload(config(dir, {logging: ['output: file', `file: ${auditLog}`]}), () => p.stderr().includes(`pipelock: config reload: audit log now goes to ${auditLog} (json)\n`))
    assert.equal(await fetch('file-line'), 200)
    assert.ok(await until(async () => existsSync(auditLog) && readFileSync(auditLog, 'utf8').includes('/file-line"')), p.stderr())
    assert.doesNotMatch(p.stdout(), /file-line/)

    // Held: the recorder's directory. The reload warns, and a block is still recorded in frA.
    const logged = config(dir, {logging: ['output: file', `file: ${auditLog}`]})
    const movedDir = logged.replace(`dir: ${path.join(dir, 'frA')}`, `dir: ${path.join(dir, 'frB')}`)
    await reload(movedDir, () => p.stderr().includes('WARNING: config reload: flight_recorder.dir requires restart, ignoring\n'))
    assert.equal(await fetch(`held?k=${SECRET}1`), 403)
    assert.ok(await until(async () => linesWith(path.join(dir, 'frA'), 'block: ').length === 1), readdirSync(path.join(dir, 'frA')).join(' '))
    assert.deepEqual(readdirSync(path.join(dir, 'frB')), [])
    const h = await health()
    assert.equal(h.config_in_sync, false)
    assert.deepEqual(h.config_restart_pending, ['flight_recorder.dir'])
    assert.match((await rawHttp(p.port, {path: '/metrics'})).body, /^pipelock_config_drift 1$/m)
    // The reload's audit line names it too; the change is not recorded as applied.
    const reloadLines = readFileSync(auditLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'config_reload')
    assert.deepEqual(reloadLines.at(-1)!.restart_pending, ['flight_recorder.dir'])
    assert.doesNotMatch(readFileSync(auditLog, 'utf8'), /"path":"flight_recorder\.dir"/)

    // Held, with the directory unchanged: `pipelock check` finds the state and says so.
    const moreEntries = logged.replace('  enabled: true\n  dir:', '  enabled: true\n  max_entries_per_file: 50\n  dir:')
    await reload(moreEntries, () => p.stderr().includes('WARNING: config reload: flight_recorder.max_entries_per_file requires restart, ignoring\n'))
    const check = runCli(['check', '--config', cfg])
    assert.equal(check.status, 0, check.stderr)
    assert.match(check.stdout, /^ {2}Running: {8}DIFFERS from this file: a reload kept the running value of flight_recorder\.max_entries_per_file \(restart-only\); restart pipelock to apply it$/m)
    assert.deepEqual((await health()).config_restart_pending, ['flight_recorder.max_entries_per_file'])

    // Live: learn capture opens on reload, and closes on the next.
    const capDir = path.join(dir, 'capture')
    const learning = config(dir, {logging: ['output: file', `file: ${auditLog}`], learn: ['enabled: true', `capture_dir: ${capDir}`]})
    await reload(learning, () => p.stderr().includes(`pipelock: capture: ${capDir} (`))
    assert.equal(await fetch('captured', {'X-Pipelock-Agent': 'shop'}), 200)
    assert.ok(await until(async () => linesWith(capDir, '/captured').length === 1), p.stderr())
    // Back in step with the file: no restart pending.
    assert.equal((await health()).config_in_sync, undefined)
    assert.match(runCli(['check', '--config', cfg]).stdout, /^ {2}Running: {8}the running proxy's policy is this file$/m)
    await reload(logged, () => p.stderr().includes(`pipelock: capture: stopped (was ${capDir}): learn.enabled is off\n`))
    assert.equal(await fetch('not-captured', {'X-Pipelock-Agent': 'shop'}), 200)
    assert.ok(await until(async () => readFileSync(auditLog, 'utf8').includes('/not-captured"')))
    assert.deepEqual(linesWith(capDir, '/not-captured'), [])

    // A file the audit log cannot open refuses the reload, as it refuses start-up; the log stays.
    // (A missing directory is created; procfs takes no new file, whoever asks.)
    const blocked = '/proc/1/audit.log'
    writeFileSync(cfg, config(dir, {logging: ['output: file', `file: ${blocked}`]}))
    p.proc.kill('SIGHUP')
    assert.ok(await until(async () => p.stderr().includes(`pipelock: config reload failed: logging.file: cannot open ${blocked}: `), 10_000), p.stderr())
    assert.equal(await fetch('still-file'), 200)
    assert.ok(await until(async () => readFileSync(auditLog, 'utf8').includes('/still-file"')))
  })
})

describe('a reload with tunnels open', {timeout: 60_000}, () => {
  it('says how many keep the admission of the policy they opened under; they go on, new ones get the new policy', async () => {
    const echo = await tcpUpstream((s) => s.pipe(s))
    const dir = tempDir('pl-reload-tunnels-')
    const cfg = path.join(dir, 'pipelock.yaml')
    const yaml = (blocklist: string): string => ['fetch_proxy:', '  monitoring:', `    blocklist: [${blocklist}]`, 'forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.0/8"]'].join('\n') + '\n'
    const p = await startProxy(yaml('"a.example"'), {dir})
    try {
      const reloads = (): Array<Record<string, unknown>> => p.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'config_reload')
      // None open: no line, no field.
      writeFileSync(cfg, yaml('"b.example"'))
      p.proc.kill('SIGHUP')
      assert.ok(await until(async () => reloads().length === 1), p.stdout())
      assert.equal(reloads()[0]!.open_tunnels, undefined)
      assert.doesNotMatch(p.stderr(), /open tunnel/)

      const t = await openTunnel(p.port, echo.port)
      writeFileSync(cfg, yaml('"127.0.0.1"'))
      p.proc.kill('SIGHUP')
      assert.ok(await until(async () => reloads().length === 2), p.stdout())
      assert.equal(reloads()[1]!.open_tunnels, 1)
      assert.match(p.stderr(), /^pipelock: config reload: 1 open tunnel\/relay keeps the admission of the policy it opened under until it closes$/m)
      // The open tunnel still relays; a new CONNECT to the now blocklisted host is refused.
      t.socket.write('still open')
      assert.ok(await until(async () => t.received() >= 'still open'.length), String(t.received()))
      await assert.rejects(openTunnel(p.port, echo.port), /CONNECT refused: HTTP\/1\.1 403/)
      t.socket.destroy()
    } finally {
      await p.stop()
      await echo.close()
    }
  })
})

describe('a reload that sets a weak admin token', {timeout: 60_000}, () => {
  it('prints the warning start-up prints, once per token change', async () => {
    const dir = tempDir('pl-reload-token-')
    const cfg = path.join(dir, 'pipelock.yaml')
    const yaml = (token: string, rpm = 600): string => ['fetch_proxy:', '  monitoring:', `    max_requests_per_minute: ${rpm}`, 'kill_switch:', `  api_token: "${token}"`].join('\n') + '\n'
    const warning = "WARNING: the admin API token is shorter than 24 characters: ten wrong guesses from an address lock that address out, the operator's right token included; a longer token (openssl rand -hex 16) always passes"
    const p = await startProxy(yaml('a-strong-admin-token-0123456789abcdef'), {dir})
    try {
      const count = (): number => p.stderr().split('\n').filter((l) => l === warning).length
      const reloaded = (n: number) => async (): Promise<boolean> => p.stdout().split('"event":"config_reload"').length - 1 === n
      assert.equal(count(), 0)
      // (The token is left out of the policy hash: another field changes too, or the reload would
      // be taken for the start-up file within the 2 s de-duplication window.)
      writeFileSync(cfg, yaml('short', 650))
      p.proc.kill('SIGHUP')
      assert.ok(await until(reloaded(1)), p.stderr())
      assert.equal(count(), 1, p.stderr())
      // The same weak token, another field changed: not said again.
      writeFileSync(cfg, yaml('short', 700))
      p.proc.kill('SIGHUP')
      assert.ok(await until(reloaded(2)), p.stdout())
      assert.equal(count(), 1, p.stderr())
    } finally {
      await p.stop()
    }
    // The same file at start-up prints the same line.
    const again = await startProxy(yaml('short'), {dir})
    try {
      assert.ok(again.stderr().split('\n').includes(warning), again.stderr())
    } finally {
      await again.stop()
    }
  })
})
