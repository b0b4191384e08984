import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import net, {type AddressInfo} from 'node:net'
import {after, describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'

// Issue 39, file sentry (containment.md §3, docs/file-sentry.md) through the built CLI: a wrapped
// MCP server (a real subprocess) writes an AWS key to a file under watch_paths while holding it
// open; with action warn the write is reported as the agent's and the session goes on, with
// action block the server is ended and pipelock exits FILE_SENTRY_BLOCKED.

const RAW = repoPath('test/mcp/fixtures/raw-server.mjs')
/** agent.sh FILE GO INFO CMD…: daemonises writer.sh (double fork + setsid), then execs CMD. */
const AGENT = repoPath('test/fixtures/file-sentry/agent.sh')
const BIN = repoPath('bin/run.js')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-file-sentry-'))
/** Every wrapped pipelock still running when the file ends (a failed assertion) is killed, so it cannot hold the file open. */
const running = new Set<ChildProcessWithoutNullStreams>()
after(() => {
  for (const p of running) p.kill('SIGKILL')
  rmSync(dir, {recursive: true, force: true})
})

const CALL = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}\n'

interface Wrap {
  proc: ChildProcessWithoutNullStreams
  stderr: () => string
  stdout: () => string
  exit: Promise<number | null>
}

function wrap(cfg: string, file: string, command: readonly string[] = [process.execPath, RAW, `leak:${file}`], flags: readonly string[] = []): Wrap {
  const proc = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', cfg, ...flags, '--', ...command], {env: {PATH: process.env.PATH, HOME: dir}})
  let err = ''
  let out = ''
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  running.add(proc)
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => {
    running.delete(proc)
    resolve(code)
  }))
  return {proc, stderr: () => err, stdout: () => out, exit}
}

async function until(check: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

function config(name: string, action: 'warn' | 'block'): {cfg: string; watched: string} {
  const base = path.join(dir, name)
  const watched = path.join(base, 'work')
  mkdirSync(path.join(watched, 'node_modules'), {recursive: true})
  const cfg = path.join(base, 'pipelock.yaml')
  writeFileSync(cfg, ['file_sentry:', '  enabled: true', '  watch_paths: ["work"]', '  ignore_patterns: ["node_modules/**", "*.log"]', `  action: ${action}`, ''].join('\n'))
  return {cfg, watched}
}

/**
 * A wrap whose server daemonises a writer (`daemon`), started and ready, after the test process
 * itself wrote a secret into the watched folder and the sentry reported it without attribution.
 */
async function daemonWrap(name: string, action: 'warn' | 'block'): Promise<{d: ReturnType<typeof daemon>; w: ReturnType<typeof wrap>}> {
  const {cfg, watched} = config(name, action)
  const d = daemon(watched)
  const w = wrap(cfg, d.file, ['sh', AGENT, d.file, d.go, d.info, process.execPath, RAW, 'echo'])
  try {
    await until(() => w.stderr().includes('raw-server echo ready'), w.stderr)
    const other = path.join(watched, 'other.txt')
    writeFileSync(other, `aws_access_key_id = ${AWS_KEY}\n`)
    await until(() => w.stderr().includes(`pipelock: [file_sentry] DLP match in ${other}: AWS Access ID (severity=critical)\n`), w.stderr)
  } catch (e) {
    d.kill()
    throw e
  }
  return {d, w}
}

describe('mcp proxy: file sentry', {timeout: 120_000}, () => {
  it('warn: the write is reported as the agent process, the session goes on', async () => {
    const {cfg, watched} = config('warn', 'warn')
    const file = path.join(watched, 'creds.txt')
    const w = wrap(cfg, file)
    w.proc.stdin.write(CALL)
    const line = `pipelock: [file_sentry] DLP match in ${file}: AWS Access ID (severity=critical) (agent process)\n`
    // The finding line and the audit line are two writes: the second can arrive in a later chunk.
    await until(() => w.stderr().includes(line) && /pipelock: audit: .*\n/.test(w.stderr()), w.stderr)
    assert.ok(w.stderr().includes('pipelock: file sentry watching 1 path(s)\n'), w.stderr())
    const audit = w.stderr().split('\n').find((l) => l.startsWith('pipelock: audit: '))
    assert.deepEqual(JSON.parse(audit!.slice('pipelock: audit: '.length)), {event: 'file_sentry_dlp', path: file, pattern: 'AWS Access ID', severity: 'critical', is_agent: true, encoded: false, action: 'warn'})
    await until(() => w.stdout().includes('"id":1'), w.stderr)
    w.proc.stdin.end()
    assert.equal(await w.exit, 0, w.stderr())
  })

  it('block: the server is ended and pipelock exits FILE_SENTRY_BLOCKED', async () => {
    const {cfg, watched} = config('block', 'block')
    const file = path.join(watched, 'creds.txt')
    const w = wrap(cfg, file)
    w.proc.stdin.write(CALL)
    // stdin stays open: only the sentry ends the session.
    assert.equal(await w.exit, 1, w.stderr())
    const reason = `file sentry: the MCP server wrote a secret (AWS Access ID) to ${file}; action block ended it`
    assert.ok(w.stderr().includes(`pipelock: ${reason}\n`), w.stderr())
    assert.ok(w.stderr().endsWith(`${reason} [FILE_SENTRY_BLOCKED]\n`), w.stderr())
  })

  it('ignored paths are not scanned; a missing watch path refuses to start, best_effort goes on without', async () => {
    const {cfg, watched} = config('ignored', 'block')
    const w = wrap(cfg, path.join(watched, 'node_modules', 'creds.txt'))
    w.proc.stdin.write(CALL)
    await until(() => w.stdout().includes('"id":1'), w.stderr)
    w.proc.stdin.end()
    assert.equal(await w.exit, 0, w.stderr())
    assert.doesNotMatch(w.stderr(), /DLP match/)

    const missing = path.join(dir, 'missing.yaml')
    writeFileSync(missing, ['file_sentry:', '  enabled: true', '  watch_paths: ["nowhere"]', ''].join('\n'))
    const r = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--config', missing, '--', 'true'], {encoding: 'utf8', input: ''})
    assert.equal(r.status, 1)
    assert.equal(r.stderr.trim().split('\n').at(-1), `file sentry failed to arm watches (feature is enabled): filesentry: watch "${path.join(dir, 'nowhere')}": watch root: ENOENT: no such file or directory, stat '${path.join(dir, 'nowhere')}' [FILE_SENTRY_FAILED]`)
    writeFileSync(missing, ['file_sentry:', '  enabled: true', '  best_effort: true', '  watch_paths: ["nowhere"]', ''].join('\n'))
    const be = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--config', missing, '--', 'true'], {encoding: 'utf8', input: ''})
    assert.equal(be.status, 0, be.stderr)
    assert.match(be.stderr, /pipelock: file sentry failed to arm watches \(best_effort: continuing without file monitoring\): /)
    writeFileSync(missing, ['file_sentry:', '  enabled: true', '  watch_paths: ["../up"]', ''].join('\n'))
    const esc = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--config', missing, '--', 'true'], {encoding: 'utf8', input: ''})
    assert.match(esc.stderr, /file_sentry: watch_paths\[0\] "\.\.\/up" escapes config directory \(use absolute path instead\)/)
  })

  it('a daemonised grandchild is still the agent: re-parented to the wrapped server, its write is attributed; the test process\'s is not', async () => {
    const {d, w} = await daemonWrap('daemon-warn', 'warn')
    try {
      writeFileSync(d.go, '')
      await until(() => w.stderr().includes(`pipelock: [file_sentry] DLP match in ${d.file}: AWS Access ID (severity=critical) (agent process)\n`), w.stderr)
      // The writer's parent exited before it wrote: it was adopted by the wrapped server itself.
      const [, adoptedBy] = readFileSync(d.info, 'utf8').trim().split(' ')
      assert.equal(adoptedBy, readFileSync(`${d.info}.agent`, 'utf8').trim())
      w.proc.stdin.end()
      assert.equal(await w.exit, 0, w.stderr())
      assert.doesNotMatch(w.stderr(), /subreaper setup failed/)
    } finally {
      d.kill()
    }
  })

  it('block: the daemonised writer\'s finding ends the whole tree, the writer included; an unrelated write does not', async () => {
    const {d, w} = await daemonWrap('daemon-block', 'block')
    try {
      w.proc.stdin.write(CALL)
      await until(() => w.stdout().includes('"id":1'), w.stderr)
      assert.equal(w.proc.exitCode, null, w.stderr())
      writeFileSync(d.go, '')
      assert.equal(await w.exit, 1, w.stderr())
      assert.ok(w.stderr().includes(`pipelock: [file_sentry] DLP match in ${d.file}: AWS Access ID (severity=critical) (agent process)\n`), w.stderr())
      assert.ok(w.stderr().endsWith(`file sentry: the MCP server wrote a secret (AWS Access ID) to ${d.file}; action block ended it [FILE_SENTRY_BLOCKED]\n`), w.stderr())
      // setsid took the writer out of the server's process group: only the tree kill reaches it.
      const writer = Number(readFileSync(d.info, 'utf8').split(' ')[0])
      await until(() => !alive(writer), () => `writer ${writer} still running`)
    } finally {
      d.kill()
    }
  })
})

describe('mcp proxy --metrics-listen', {timeout: 120_000}, () => {
  it('serves /metrics with pipelock_file_sentry_findings_total after a finding, beside the MCP counters', async () => {
    const {cfg, watched} = config('metrics', 'warn')
    const file = path.join(watched, 'creds.txt')
    const w = wrap(cfg, file, undefined, ['--metrics-listen', '127.0.0.1:0'])
    try {
      await until(() => /pipelock: metrics listening on 127\.0\.0\.1:\d+\n/.test(w.stderr()), w.stderr)
      const base = `http://${/pipelock: metrics listening on (127\.0\.0\.1:\d+)\n/.exec(w.stderr())![1]}`
      const before = await fetch(`${base}/metrics`)
      assert.equal(before.status, 200)
      assert.equal(before.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
      assert.equal(await before.text(), '')
      w.proc.stdin.write(CALL)
      await until(() => w.stderr().includes(`DLP match in ${file}: AWS Access ID (severity=critical) (agent process)\n`), w.stderr)
      await until(() => w.stdout().includes('"id":1'), w.stderr)
      assert.equal(await (await fetch(`${base}/metrics`)).text(), [
        '# HELP pipelock_mcp_messages_total MCP messages by direction and verdict.',
        '# TYPE pipelock_mcp_messages_total counter',
        'pipelock_mcp_messages_total{direction="request",verdict="allow"} 1',
        'pipelock_mcp_messages_total{direction="response",verdict="allow"} 1',
        '# HELP pipelock_file_sentry_findings_total Secrets found in files written under file_sentry.watch_paths.',
        '# TYPE pipelock_file_sentry_findings_total counter',
        'pipelock_file_sentry_findings_total{agent="true",pattern="AWS Access ID",severity="critical"} 1',
        '',
      ].join('\n'))
      const other = await fetch(`${base}/stats`)
      assert.equal(other.status, 404)
      assert.equal(await other.text(), '404 page not found\n')
    } finally {
      w.proc.stdin.end()
    }
    assert.equal(await w.exit, 0, w.stderr())
  })

  it('a malformed address is a usage error; a taken port refuses to start', async () => {
    const bad = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--metrics-listen', 'nonsense', '--', 'true'], {encoding: 'utf8', input: ''})
    assert.equal(bad.status, 2, bad.stderr)
    assert.equal(bad.stderr.trim().split('\n').at(-1), '--metrics-listen "nonsense": want host:port (port 0 picks a free port) [USAGE]')
    const held = net.createServer()
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r))
    const port = (held.address() as AddressInfo).port
    try {
      const taken = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', '--metrics-listen', `127.0.0.1:${port}`, '--', 'true'], {encoding: 'utf8', input: ''})
      assert.equal(taken.status, 1, taken.stderr)
      assert.equal(taken.stderr.trim().split('\n').at(-1), `metrics listener bind 127.0.0.1:${port}: listen EADDRINUSE: address already in use 127.0.0.1:${port} [LISTEN_FAILED]`)
    } finally {
      await new Promise<void>((r) => held.close(() => r()))
    }
  })
})

const AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('')

/** Paths for agent.sh / writer.sh: the file the daemon writes, its go signal, its pid record. */
function daemon(watched: string): {file: string; go: string; info: string; kill: () => void} {
  const base = path.dirname(watched)
  const info = path.join(base, 'writer-info')
  return {
    file: path.join(watched, 'daemon.txt'), go: path.join(base, 'go'), info,
    kill: () => {
      if (!existsSync(info)) return
      try {
        process.kill(Number(readFileSync(info, 'utf8').split(' ')[0]), 'SIGKILL')
      } catch {
        // already gone
      }
    },
  }
}

/** Running (a zombie waiting for its reaper counts as ended). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}
