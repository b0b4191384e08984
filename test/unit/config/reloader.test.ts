import {test} from 'node:test'
import assert from 'node:assert/strict'
import {appendFileSync, renameSync, unlinkSync, writeFileSync} from 'node:fs'
import {createRequire, syncBuiltinESMExports} from 'node:module'
import path from 'node:path'
import {
  ConfigReloader,
  RESTART_ONLY_FIELDS,
  loadConfig,
  type ReloadApplied,
  type ReloadRejected,
  type ReloadTimers,
} from '../../../src/plugins/config/index.js'
import {tempDir} from './helpers.js'

const load = (f: string) => loadConfig(f, {env: {}})

/** Collects every event of a reloader. */
function record(r: ConfigReloader): {applied: ReloadApplied[]; rejected: ReloadRejected[]; ignored: string[]; warnings: string[]} {
  const out = {applied: [] as ReloadApplied[], rejected: [] as ReloadRejected[], ignored: [] as string[], warnings: [] as string[]}
  r.on('applied', (e) => out.applied.push(e))
  r.on('rejected', (e) => out.rejected.push(e))
  r.on('ignored', (e) => out.ignored.push(e.reason))
  r.on('warning', (w) => out.warnings.push(w))
  return out
}

/** Fake timers: nothing fires until `fire()`. */
function fakeTimers(): ReloadTimers & {pending: () => number; fire: () => void; delays: number[]} {
  const queue = new Map<number, () => void>()
  const delays: number[] = []
  let next = 1
  return {
    setTimeout: (fn, ms) => {
      delays.push(ms)
      queue.set(next, fn)
      return next++
    },
    clearTimeout: (h) => void queue.delete(h as number),
    pending: () => queue.size,
    fire: () => {
      const fns = [...queue.values()]
      queue.clear()
      for (const fn of fns) fn()
    },
    delays,
  }
}

test('SIGHUP path: a good change is applied; a bad one is rejected and the old config stays', () => {
  const t = tempDir()
  try {
    const file = t.file('pipelock.yaml', 'mode: balanced\n')
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    writeFileSync(file, 'mode: balanced\nfetch_proxy:\n  monitoring:\n    max_url_length: 999\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
    assert.equal(ev.applied[0]!.trigger, 'signal')
    assert.equal(r.current.config.fetch_proxy.monitoring.max_url_length, 999)
    const good = r.current

    writeFileSync(file, 'mode: balanced\nfetch_proxy:\n  bogus: 1\n')
    r.reloadNow()
    assert.equal(ev.rejected.length, 1)
    assert.match(ev.rejected[0]!.message, /^pipelock: config reload failed: .*pipelock\.yaml:3: invalid config: unknown key "fetch_proxy\.bogus"$/)
    assert.equal(r.current, good)

    writeFileSync(file, 'mode: balanced\n---\nmode: audit\n')
    r.reloadNow()
    assert.equal(ev.rejected.length, 2)
    assert.match(ev.rejected[1]!.message, /multiple YAML documents/)
    assert.equal(r.current, good)
  } finally {
    t.cleanup()
  }
})

test('learn_lock: what the contract runtime was built from is restart-only; unlocked_agents and ignore_self_declared_agents apply', () => {
  const t = tempDir()
  try {
    const lock = (mode: string, more = ''): string =>
      `learn_lock:\n  enabled: true\n  mode: ${mode}\n  store_dir: /var/lib/pipelock/store\n  roster_path: /etc/pipelock/roster.json\n  environment: {id: prod, tenant: "", deployment_id: ""}\n  pinned_root_fingerprint: sha256:${'a'.repeat(64)}\n${more}`
    const file = t.file('p.yaml', lock('live'))
    // learn_lock is outside the config hash: past the dedup window, as an operator's edit would be
    let clock = 0
    const r = new ConfigReloader({path: file, initial: load(file), load, now: () => clock})
    clock = 60_000
    const ev = record(r)
    writeFileSync(file, lock('shadow', '  minimum_signatures: 2\n  unlocked_agents: [healthcheck]\n  ignore_self_declared_agents: true\n'))
    r.reloadNow()
    assert.equal(ev.applied.length, 1, JSON.stringify(ev.rejected))
    assert.deepEqual(ev.applied[0]!.restartOnly, ['learn_lock.mode', 'learn_lock.minimum_signatures'])
    assert.ok(ev.warnings.includes('WARNING: config reload: learn_lock.mode requires restart, ignoring'))
    const c = r.current.config.learn_lock
    assert.deepEqual([c.mode, c.minimum_signatures, c.unlocked_agents, c.ignore_self_declared_agents], ['live', 1, ['healthcheck'], true])
  } finally {
    t.cleanup()
  }
})

test('restart-only fields are reported and keep their running values; the rest applies', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: balanced\n')
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    writeFileSync(file, 'mode: balanced\nmetrics_listen: 127.0.0.1:9100\nfetch_proxy:\n  listen: 127.0.0.1:7777\nhealth_watchdog:\n  interval_seconds: 5\nenforce: false\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
    assert.deepEqual(ev.applied[0]!.restartOnly, ['fetch_proxy.listen', 'metrics_listen', 'health_watchdog'])
    assert.ok(ev.warnings.includes('WARNING: config reload: metrics_listen requires restart, ignoring'))
    const c = r.current.config
    assert.equal(c.metrics_listen, '')
    assert.equal(c.fetch_proxy.listen, '127.0.0.1:8888')
    assert.equal(c.health_watchdog.interval_seconds, 2)
    assert.equal(c.enforce, false) // applied, with a downgrade warning
    assert.deepEqual(ev.applied[0]!.downgrades, ['enforce: true -> false'])
  } finally {
    t.cleanup()
  }
})

test('rejected outright: enabling the forward proxy, and any downgrade from strict mode', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: strict\n')
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    writeFileSync(file, 'mode: strict\nforward_proxy:\n  enabled: true\n')
    r.reloadNow()
    assert.match(ev.rejected[0]!.message, /rejected: forward proxy cannot be enabled via reload \(requires restart\)/)
    writeFileSync(file, 'mode: balanced\n')
    r.reloadNow()
    assert.match(ev.rejected[1]!.message, /rejected: security downgrade from strict mode \(mode: strict -> balanced\)/)
    writeFileSync(file, 'mode: strict\ntrusted_domains: [internal.example.com]\n')
    r.reloadNow()
    assert.match(ev.rejected[2]!.message, /security downgrade from strict mode \(trusted_domains: added internal\.example\.com\)/)
    assert.equal(ev.applied.length, 0)
    assert.equal(r.current.config.mode, 'strict')
    // a tightening change from strict is fine
    writeFileSync(file, 'mode: strict\nfetch_proxy:\n  monitoring:\n    max_url_length: 100\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
  } finally {
    t.cleanup()
  }
})

test('an unchanged config within 2 s is ignored (dedup); after the window it applies again', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: balanced\n')
    let now = 1000
    const r = new ConfigReloader({path: file, initial: load(file), load, now: () => now})
    const ev = record(r)
    r.reloadNow()
    assert.deepEqual(ev.ignored, ['unchanged config (same content within the dedup window)'])
    now += 2500
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
  } finally {
    t.cleanup()
  }
})

test('a reload that only rotates a secret the policy hash masks is applied inside the dedup window', () => {
  const t = tempDir()
  try {
    const token = (v: string): string => `mode: balanced\nkill_switch:\n  api_token: "${v}"\n`
    const file = t.file('p.yaml', token('a'.repeat(32)))
    const now = 1000
    const r = new ConfigReloader({path: file, initial: load(file), load, now: () => now})
    const ev = record(r)
    writeFileSync(file, token('b'.repeat(32)))
    r.reloadNow()
    assert.deepEqual(ev.ignored, [])
    assert.equal(ev.applied.length, 1)
    assert.equal(r.current.config.kill_switch.api_token, 'b'.repeat(32))
    r.reloadNow()
    assert.deepEqual(ev.ignored, ['unchanged config (same content within the dedup window)'])
  } finally {
    t.cleanup()
  }
})

test('debounce: rapid file events coalesce into one reload 100 ms after the last; SIGHUP folds a pending one', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: balanced\n')
    const timers = fakeTimers()
    let loads = 0
    const r = new ConfigReloader({path: file, initial: load(file), load: (f) => (loads++, load(f)), timers})
    const ev = record(r)
    writeFileSync(file, 'mode: audit\n')
    for (let i = 0; i < 5; i++) r.notifyChange()
    assert.equal(timers.pending(), 1)
    assert.deepEqual(timers.delays, [100, 100, 100, 100, 100])
    assert.equal(loads, 0)
    timers.fire()
    assert.equal(loads, 1)
    assert.equal(ev.applied.length, 1)
    assert.equal(ev.applied[0]!.trigger, 'watch')
    r.notifyChange()
    writeFileSync(file, 'mode: balanced\n')
    r.reloadNow()
    assert.equal(timers.pending(), 0)
    assert.equal(loads, 2)
  } finally {
    t.cleanup()
  }
})

test('a reload of a file that sets nothing (0 bytes, comments only, {}, null) is refused; the running config stays', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'mode: balanced\nforward_proxy:\n  enabled: true\n')
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    const running = r.current
    for (const text of ['', '# being rewritten\n', '{}\n', 'null\n', '~\n']) {
      writeFileSync(file, text)
      r.reloadNow()
    }
    assert.equal(ev.applied.length, 0)
    assert.deepEqual(ev.rejected.map((e) => e.message), Array(5).fill(
      `pipelock: config reload failed: ${file}: the file sets nothing (empty, comments only, null or {}): refused, the running config stays; write the file atomically (a temp file, then rename it over this one)`,
    ))
    assert.deepEqual(ev.rejected.map((e) => e.refused), Array(5).fill(undefined))
    assert.deepEqual(ev.warnings, [])
    assert.equal(r.current, running)
    // a file that sets one thing is a config, and applies
    writeFileSync(file, 'mode: balanced\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
    assert.equal(r.current.config.forward_proxy.enabled, false)
  } finally {
    t.cleanup()
  }
})

test('real watcher: a write, then an editor-style rename, are picked up; a bad write is rejected', async () => {
  const t = tempDir()
  const file = t.file('pipelock.yaml', 'mode: balanced\n')
  const r = new ConfigReloader({path: file, initial: load(file), load, debounceMs: 50, dedupWindowMs: 0})
  const next = (kind: 'applied' | 'rejected'): Promise<ReloadApplied | ReloadRejected> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${kind} event within 1.5 s`)), 1500)
      r.once(kind, (e: ReloadApplied | ReloadRejected) => {
        clearTimeout(timer)
        resolve(e)
      })
    })
  try {
    await r.start()
    const applied = next('applied')
    writeFileSync(file, 'mode: audit\n')
    await applied
    assert.equal(r.current.config.mode, 'audit')

    const renamed = next('applied')
    const tmp = path.join(t.dir, '.pipelock.yaml.tmp')
    writeFileSync(tmp, 'mode: balanced\nenforce: false\n')
    renameSync(tmp, file)
    await renamed
    assert.equal(r.current.config.enforce, false)

    // rapid writes coalesce: one reload, with the last content
    let count = 0
    const onApplied = (): void => void count++
    r.on('applied', onApplied)
    const last = next('applied')
    for (let i = 1; i <= 5; i++) writeFileSync(file, `mode: balanced\nenforce: false\nfetch_proxy:\n  monitoring:\n    max_url_length: ${1000 + i}\n`)
    await last
    await new Promise((resolve) => setTimeout(resolve, 150))
    r.off('applied', onApplied)
    assert.equal(count, 1)
    assert.equal(r.current.config.fetch_proxy.monitoring.max_url_length, 1005)

    const rejected = next('rejected')
    writeFileSync(file, 'mode: [\n')
    const e = (await rejected) as ReloadRejected
    assert.match(e.message, /config reload failed/)
    assert.equal(r.current.config.enforce, false)
  } finally {
    await r.close()
    t.cleanup()
  }
})

test('the watch covers the config file only: churn in sibling files (an audit log beside it) costs no stat or readdir', async () => {
  // Counts filesystem metadata calls through node's builtin module objects (chokidar imports them).
  const require = createRequire(import.meta.url)
  const fsp = require('node:fs/promises') as Record<string, unknown>
  const fsc = require('node:fs') as Record<string, unknown>
  const names = ['stat', 'lstat', 'readdir', 'opendir'] as const
  const calls: string[] = []
  const originals: [Record<string, unknown>, string, unknown][] = []
  const spy = (mod: Record<string, unknown>, name: string): void => {
    const orig = mod[name] as (...a: unknown[]) => unknown
    originals.push([mod, name, orig])
    mod[name] = function (this: unknown, ...args: unknown[]) {
      calls.push(`${name} ${String(args[0])}`)
      return orig.apply(this, args)
    }
  }
  const t = tempDir()
  const file = t.file('pipelock.yaml', 'mode: balanced\n')
  const log = t.file('audit.log', '')
  const r = new ConfigReloader({path: file, initial: load(file), load, debounceMs: 20, dedupWindowMs: 0})
  try {
    await r.start()
    for (const n of names) {
      spy(fsp, n)
      spy(fsc, n)
    }
    syncBuiltinESMExports()
    for (let i = 0; i < 20; i++) {
      appendFileSync(log, `line ${i}\n`)
      writeFileSync(path.join(t.dir, `other-${i}.tmp`), 'x')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(calls, [])
  } finally {
    for (const [mod, name, orig] of originals) mod[name] = orig
    syncBuiltinESMExports()
    await r.close()
    t.cleanup()
  }
})

test('real watcher: repeated atomic-rename saves and a delete-then-recreate are each picked up', async () => {
  const t = tempDir()
  const file = t.file('pipelock.yaml', 'mode: balanced\n')
  const r = new ConfigReloader({path: file, initial: load(file), load, debounceMs: 30, dedupWindowMs: 0})
  const next = (step: string): Promise<ReloadApplied> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${step}: no applied event within 1.5 s`)), 1500)
      r.once('applied', (e) => {
        clearTimeout(timer)
        resolve(e)
      })
    })
  try {
    await r.start()
    for (let i = 1; i <= 3; i++) {
      const applied = next(`rename ${i}`)
      const tmp = path.join(t.dir, `.pipelock.yaml.${i}.swp`)
      writeFileSync(tmp, `mode: balanced\nfetch_proxy:\n  monitoring:\n    max_url_length: ${2000 + i}\n`)
      renameSync(tmp, file)
      await applied
      assert.equal(r.current.config.fetch_proxy.monitoring.max_url_length, 2000 + i)
    }
    const recreated = next('delete, then create')
    unlinkSync(file)
    await new Promise((resolve) => setTimeout(resolve, 150))
    writeFileSync(file, 'mode: audit\n')
    await recreated
    assert.equal(r.current.config.mode, 'audit')
    const written = next('write after re-create')
    writeFileSync(file, 'mode: balanced\n')
    await written
    assert.equal(r.current.config.mode, 'balanced')
  } finally {
    await r.close()
    t.cleanup()
  }
})

test('redaction reloads with the spec warnings; an unreadable entries_file refuses the reload and the running dictionary stays', () => {
  const t = tempDir()
  try {
    const names = t.file('names.yaml', '- Bluebird\n')
    const section = (profile: string, file = names): string =>
      `request_body_scanning:\n  enabled: true\nredaction:\n  enabled: true\n  default_profile: ${profile}\n  profiles:\n    a: {classes: [ipv4]}\n    b: {classes: [email], dictionaries: [code]}\n  dictionaries:\n    code: {class: codename, entries_file: ${JSON.stringify(file)}}\n`
    const file = t.file('p.yaml', section('a'))
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    writeFileSync(file, section('b'))
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
    assert.ok(ev.warnings.includes('WARNING: config reload: redaction default_profile changed from "a" to "b" \u2014 matcher rules updated'), ev.warnings.join('\n'))
    const good = r.current
    writeFileSync(file, section('b', path.join(path.dirname(file), 'gone.yaml')))
    r.reloadNow()
    assert.equal(ev.rejected.length, 1)
    assert.match(ev.rejected[0]!.message, /redaction: redact: dictionary "code": entries_file ".*gone\.yaml" cannot be read: no such file or directory/)
    assert.equal(r.current, good)
    writeFileSync(file, 'request_body_scanning:\n  enabled: true\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 2)
    assert.ok(ev.warnings.includes('WARNING: config reload: redaction disabled \u2014 request bodies will no longer be rewritten before forwarding'))
  } finally {
    t.cleanup()
  }
})

test('a reload whose host or header-name list holds an entry that matches nothing is refused, and the running lists stay; a new broad-entry warning is said', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'tls_interception:\n  passthrough_domains: ["registry.npmjs.org"]\n')
    const r = new ConfigReloader({path: file, initial: load(file), load})
    const ev = record(r)
    const good = r.current
    const refused: Array<[string, RegExp]> = [
      ['tls_interception:\n  passthrough_domains: ["https://registry.npmjs.org"]\n', /tls_interception\.passthrough_domains\[0\]: "https:\/\/registry\.npmjs\.org" is a URL; use a bare hostname/],
      ['forward_proxy:\n  redirect_websocket_hosts: ["gateway.discord.gg:443"]\n', /forward_proxy\.redirect_websocket_hosts\[0\]: "gateway\.discord\.gg:443" contains a port/],
      ['request_body_scanning:\n  sensitive_headers: ["X-Api-Key: x"]\n', /request_body_scanning\.sensitive_headers\[0\]: "X-Api-Key: …" contains ":"/],
      ['request_body_scanning:\n  ignore_headers: ["Accept Encoding"]\n', /request_body_scanning\.ignore_headers\[0\]: "Accept Encoding" is not a header name/],
    ]
    for (const [i, [text, message]] of refused.entries()) {
      writeFileSync(file, text)
      r.reloadNow()
      assert.equal(ev.rejected.length, i + 1, text)
      assert.match(ev.rejected[i]!.message, /^pipelock: config reload failed: /)
      assert.match(ev.rejected[i]!.message, message)
      assert.equal(r.current, good)
    }
    assert.equal(ev.applied.length, 0)
    // transports §2.6: "*" loads with a warning, which a reload says as a start does (once).
    writeFileSync(file, 'tls_interception:\n  passthrough_domains: ["registry.npmjs.org", "*"]\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 1)
    assert.deepEqual(r.current.config.tls_interception.passthrough_domains, ['registry.npmjs.org', '*'])
    assert.deepEqual(ev.warnings, ['WARNING: config reload: tls_interception.passthrough_domains[1]: bare "*" matches no host: only a leading "*." is a wildcard'])
    writeFileSync(file, 'tls_interception:\n  passthrough_domains: ["registry.npmjs.org", "*"]\nfetch_proxy:\n  monitoring:\n    max_url_length: 999\n')
    r.reloadNow()
    assert.equal(ev.applied.length, 2)
    assert.equal(ev.warnings.length, 1)
  } finally {
    t.cleanup()
  }
})

test('every flight_recorder field is restart-only: the recorder is opened once per run', () => {
  const t = tempDir()
  try {
    const file = t.file('p.yaml', 'version: 1\n')
    const initial = load(file)
    const fields = Object.keys(initial.config.flight_recorder).map((k) => `flight_recorder.${k}`)
    assert.ok(fields.length >= 11, fields.join(' '))
    assert.deepEqual(fields.filter((f) => !RESTART_ONLY_FIELDS.includes(f)), [])
    // A reload that turns it on elsewhere keeps the running recorder (off) and says so.
    const r = new ConfigReloader({path: file, initial, load})
    const ev = record(r)
    writeFileSync(file, `version: 1\nflight_recorder:\n  enabled: true\n  dir: ${JSON.stringify(path.join(t.dir, 'moved'))}\n`)
    r.reloadNow()
    assert.deepEqual(ev.applied[0]!.restartOnly, ['flight_recorder.enabled', 'flight_recorder.dir'])
    assert.equal(ev.applied[0]!.config.config.flight_recorder.enabled, false)
    assert.equal(ev.applied[0]!.config.config.flight_recorder.dir, initial.config.flight_recorder.dir)
    assert.ok(ev.warnings.includes('WARNING: config reload: flight_recorder.dir requires restart, ignoring'), ev.warnings.join('\n'))
  } finally {
    t.cleanup()
  }
})
