import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, realpathSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli, runCliAsync} from '../helpers/cli.js'

// Commands that read a file, change it and write it back (envelope trust add/remove, mcp
// integrity manifest generate --merge), started at the same moment on the same file, as a
// provisioning script running them in parallel does: every change lands. Each run holds
// <file>.lock for its read-modify-write; a lock left by a process that is gone is broken.

const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'pl-e2e-concurrent-')))
const RUNS = 10

test('envelope trust add: ten at once on one store, ten records', async () => {
  const store = path.join(dir, 'trust.json')
  const keyOf = (i: number): string => (i + 1).toString(16).padStart(64, '0')
  const runs = await Promise.all(Array.from({length: RUNS}, (_, i) => runCliAsync(['envelope', 'trust', 'add', `d${i}.example.com`, '--key', keyOf(i), '--store', store])))
  for (const [i, r] of runs.entries()) {
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `trusted\td${i}.example.com\n`)
  }
  const records = JSON.parse(readFileSync(store, 'utf8')) as {trust_domain: string; key_hex: string}[]
  assert.deepEqual(records.map((r) => `${r.trust_domain} ${r.key_hex}`).sort(), Array.from({length: RUNS}, (_, i) => `d${i}.example.com ${keyOf(i)}`).sort())
})

test('mcp integrity manifest generate --merge: ten servers pinned at once, ten scripts in the manifest', async () => {
  const manifest = path.join(dir, 'manifest.json')
  const scripts = Array.from({length: RUNS}, (_, i) => {
    const file = path.join(dir, `server-${i}.mjs`)
    writeFileSync(file, `// server ${i}\n`)
    return file
  })
  const runs = await Promise.all(scripts.map((s) => runCliAsync(['mcp', 'integrity', 'manifest', 'generate', '--output', manifest, '--merge', '--', process.execPath, s])))
  for (const r of runs) assert.equal(r.status, 0, r.stderr)
  const entries = Object.keys((JSON.parse(readFileSync(manifest, 'utf8')) as {entries: Record<string, string>}).entries)
  assert.deepEqual(entries.filter((e) => e.endsWith('.mjs')), [...scripts].sort())
})

test('a lock left by a process that is gone does not block the next update', () => {
  const store = path.join(dir, 'stale.json')
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {encoding: 'utf8'}).stdout
  writeFileSync(`${store}.lock`, gone)
  const r = runCli(['envelope', 'trust', 'add', 'stale.example.com', '--key', 'ab'.repeat(32), '--store', store])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, 'trusted\tstale.example.com\n')
  assert.equal((JSON.parse(readFileSync(store, 'utf8')) as unknown[]).length, 1)
})
