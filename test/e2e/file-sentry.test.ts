import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'

// Issue 39, file sentry (containment.md §3, docs/file-sentry.md) through the built CLI: a wrapped
// MCP server (a real subprocess) writes an AWS key to a file under watch_paths while holding it
// open; with action warn the write is reported as the agent's and the session goes on, with
// action block the server is ended and pipelock exits FILE_SENTRY_BLOCKED.

const RAW = repoPath('test/mcp/fixtures/raw-server.mjs')
const BIN = repoPath('bin/run.js')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-file-sentry-'))
after(() => rmSync(dir, {recursive: true, force: true}))

const CALL = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}\n'

interface Wrap {
  proc: ChildProcessWithoutNullStreams
  stderr: () => string
  stdout: () => string
  exit: Promise<number | null>
}

function wrap(cfg: string, file: string): Wrap {
  const proc = spawn(process.execPath, [BIN, 'mcp', 'proxy', '--config', cfg, '--', process.execPath, RAW, `leak:${file}`], {env: {PATH: process.env.PATH, HOME: dir}})
  let err = ''
  let out = ''
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
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

describe('mcp proxy: file sentry', {timeout: 120_000}, () => {
  it('warn: the write is reported as the agent process, the session goes on', async () => {
    const {cfg, watched} = config('warn', 'warn')
    const file = path.join(watched, 'creds.txt')
    const w = wrap(cfg, file)
    w.proc.stdin.write(CALL)
    const line = `pipelock: [file_sentry] DLP match in ${file}: AWS Access ID (severity=critical) (agent process)\n`
    await until(() => w.stderr().includes(line), w.stderr)
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
})
