/**
 * A `source_cidrs` range holding 127.0.0.1 or ::1 binds every client that reaches `pipelock run`
 * over loopback to one profile: each agent on the host, told apart by nothing. `check` and `run`
 * say so in the same words; a range that holds only other loopback addresses (a client that binds
 * its own source address, 127.0.0.2) earns no warning.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {tempDir} from './proxy-harness.js'

const dir = tempDir('pipelock-loopback-binding-')
const WARNING = `agents.local.source_cidrs "127.0.0.0/8", agents.local6.source_cidrs "::1/128" hold 127.0.0.1 or ::1, the address every local client connects from: each agent on this host that reaches the proxy over loopback (and each pipelock sandbox --proxy bridged to it) is bound to the entry's profile, so they cannot be told apart; give each local agent its own agents.<name>.listeners port instead`

function cfg(name: string, text: string): string {
  const f = path.join(dir, name)
  writeFileSync(f, text, {mode: 0o600})
  return f
}

const loopback = cfg('loopback.yaml', ['agents:', '  local:', '    source_cidrs: ["127.0.0.0/8"]', '  local6:', '    source_cidrs: ["::1/128"]', '  lan:', '    source_cidrs: ["10.0.0.0/8"]', ''].join('\n'))

test('check: a source_cidrs range holding 127.0.0.1 or ::1 is a warning naming each entry; one holding 127.0.0.2 only is not', () => {
  const r = runCli(['check', '--config', loopback])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stderr, `WARNING: ${WARNING}\n`)
  const own = runCli(['check', '--config', cfg('own.yaml', ['agents:', '  ci:', '    source_cidrs: ["127.0.0.2/32"]', ''].join('\n'))])
  assert.equal(own.status, 0, own.stderr)
  assert.equal(own.stderr, '')
})

test('run: the same warning, before the proxy listens', async () => {
  const proc = spawn(process.execPath, [repoPath('bin', 'run.js'), 'run', '--config', loopback, '--listen', '127.0.0.1:0'], {cwd: repoPath(), env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  await new Promise<void>((resolve, reject) => {
    proc.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
      if (/^ {2}Listen: /m.test(err)) resolve()
    })
    proc.once('exit', (code) => reject(new Error(`pipelock run exited (${code}) before listening:\n${err}`)))
  })
  proc.kill('SIGTERM')
  const lines = err.split('\n')
  assert.equal(lines.filter((l) => l.includes('source_cidrs')).length, 1, err)
  assert.ok(lines.indexOf(`WARNING: ${WARNING}`) >= 0 && lines.indexOf(`WARNING: ${WARNING}`) < lines.findIndex((l) => l.startsWith('  Listen: ')), err)
})
