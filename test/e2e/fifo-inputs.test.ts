import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {repoPath} from '../helpers/vectors.js'

// A FIFO named where a command reads a file: opening it blocks until something writes, so the
// command hung. Each must refuse it with one line instead. Every run has its own deadline, so a
// regression fails here rather than hanging the suite.

const KEY = '85b692688437e4416944ca37113fa054b576b191c240e1cfcf485ebd5c7df706'
const HINT = '; hint: name a regular file; a FIFO, socket or device is never read'

function runWithDeadline(args: readonly string[]): {status: number | null; stdout: string; stderr: string; timedOut: boolean} {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {
    cwd: repoPath(),
    env: {...process.env, NO_COLOR: '1'},
    input: '',
    encoding: 'utf8',
    timeout: 20_000,
  })
  return {status: r.status, stdout: r.stdout, stderr: r.stderr, timedOut: (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT'}
}

test('commands refuse a FIFO where they read a file, at once and in one line', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-fifo-'))
  const fifo = path.join(dir, 'fifo')
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0, 'mkfifo')
  const refused = (what: string): string => `${what} ${fifo} is not a regular file (it is a FIFO) [PATH_UNSAFE]${HINT}\n`
  const cases: {args: string[]; status: number; stderr: string}[] = [
    {args: ['check', '--config', fifo], status: 1, stderr: `Config validation FAILED: ${refused('config')}`},
    {args: ['run', '--config', fifo], status: 1, stderr: refused('config')},
    {args: ['audit', 'score', '--config', fifo], status: 1, stderr: `loading config: ${refused('config')}`},
    {args: ['verify-receipt', fifo, '--key', KEY], status: 1, stderr: refused('receipt')},
    {args: ['verify-receipt', repoPath('test', 'vectors', 'receipts', 'valid-single.json'), '--key', fifo], status: 1, stderr: `loading public key: ${refused('public key file')}`},
    {args: ['verify-receipt', repoPath('test', 'vectors', 'receipts', 'valid-chain.jsonl'), '--key', KEY, '--rotation-endorsement', fifo], status: 1, stderr: refused('rotation endorsement')},
    {args: ['trust', 'peer3', fifo, '--keystore', path.join(dir, 'ks')], status: 1, stderr: refused('public key')},
    {args: ['tls', 'show-ca', '--cert', fifo], status: 1, stderr: refused('CA cert')},
    {args: ['learn', 'compile', '--fixture', fifo, '--input', 'x', '--out-dir', path.join(dir, 'out')], status: 1, stderr: refused('fixture')},
    {args: ['signing', 'transition', 'verify', '--path', path.join(dir, 't.json'), '--pinned', `sha256:${KEY}`, '--old-pubkey-file', fifo, '--new-pubkey', KEY], status: 1, stderr: refused('--old-pubkey-file')},
    {args: ['mcp', 'integrity', 'manifest', 'verify', '--manifest', fifo, '--', 'true'], status: 1, stderr: refused('manifest')},
    {args: ['escrow', 'decrypt', fifo, '--key', '11'.repeat(32)], status: 1, stderr: refused('escrow file')},
    {
      args: ['envelope', 'trust', 'list', '--store', fifo],
      status: 2,
      stderr: `trust store ${fifo} is not a regular file (it is a FIFO) [ENVELOPE_TRUST_INVALID]\n`,
    },
  ]
  for (const c of cases) {
    const r = runWithDeadline(c.args)
    const shown = `pipelock ${c.args.join(' ')}`
    assert.equal(r.timedOut, false, `${shown} hung on the FIFO`)
    assert.equal(r.stderr, c.stderr, shown)
    assert.equal(r.status, c.status, shown)
    assert.equal(r.stdout, '', shown)
  }
})
