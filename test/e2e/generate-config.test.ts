import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {loadConfig, presetConfig, resolveConfig} from '../../src/plugins/config/index.js'
import {repoPath} from '../helpers/vectors.js'

// `pipelock generate config` through the built CLI, with real files in a temp dir.

function pipelock(args: string[], cwd?: string): {code: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {encoding: 'utf8', cwd, env: {...process.env, NO_COLOR: '1'}})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

test('generate config --preset balanced prints exactly the checked-in YAML', () => {
  const r = pipelock(['generate', 'config', '--preset', 'balanced'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stderr, '')
  assert.equal(r.stdout, readFileSync(repoPath('test/unit/config/fixtures/preset-balanced.yaml'), 'utf8'))
  assert.ok(r.stdout.startsWith('# Pipelock configuration — preset "balanced": general use: warn on body and response findings, paste sites blocked, adaptive enforcement on.\n'))
})

test('--out writes a 0600 file that loads back to the preset; refuses to overwrite without --force', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-gencfg-'))
  try {
    const out = path.join(dir, 'pipelock.yaml')
    const first = pipelock(['generate', 'config', '--preset', 'hostile-model', '--out', out])
    assert.equal(first.code, 0, first.stderr)
    assert.equal(first.stdout, '')
    // Every preset runs in this build: no warning, only the line naming the file.
    assert.equal(first.stderr, `wrote ${out} (preset hostile-model)\n`)
    assert.equal(statSync(out).mode & 0o777, 0o600)
    assert.deepEqual(loadConfig(out, {env: {}}).config, resolveConfig(presetConfig('hostile-model'), {env: {}}).config)

    writeFileSync(out, 'mode: audit\n')
    const again = pipelock(['generate', 'config', '--preset', 'strict', '--out', out])
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `${out} already exists [FILE_EXISTS]; hint: pass --force to overwrite it\n`)
    assert.equal(readFileSync(out, 'utf8'), 'mode: audit\n')

    const forced = pipelock(['generate', 'config', '--preset', 'strict', '--out', out, '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal(loadConfig(out, {env: {}}).config.mode, 'strict')
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('an unknown preset is a usage error (exit 2, one line and a pointer to --help)', () => {
  const r = pipelock(['generate', 'config', '--preset', 'yolo'])
  assert.equal(r.code, 2)
  assert.equal(
    r.stderr,
    'Expected --preset=yolo to be one of: balanced, strict, audit, claude-code, cursor, generic-agent, hostile-model [USAGE]; hint: see pipelock generate config --help\n',
  )
})

test('--output (relative to the working directory) and --json', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-gencfg-'))
  try {
    const w = pipelock(['generate', 'config', '--preset', 'strict', '--output', 'sub.yaml', '--json'], dir)
    assert.equal(w.code, 0, w.stderr)
    assert.deepEqual(JSON.parse(w.stdout), {preset: 'strict', path: path.join(dir, 'sub.yaml')})
    assert.deepEqual(loadConfig(path.join(dir, 'sub.yaml'), {env: {}}).config, resolveConfig(presetConfig('strict'), {env: {}}).config)
    const p = pipelock(['generate', 'config', '--preset', 'audit', '--json'])
    assert.equal(p.code, 0, p.stderr)
    const j = JSON.parse(p.stdout) as {preset: string; config: string}
    assert.equal(j.preset, 'audit')
    assert.equal(j.config, pipelock(['generate', 'config', '--preset', 'audit']).stdout)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
