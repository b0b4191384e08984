import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
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

test('check on a file written for strict or hostile-model names the built-in chains that still warn (the docs say so)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-gencfg-'))
  try {
    for (const preset of ['strict', 'hostile-model']) {
      const out = path.join(dir, `${preset}.yaml`)
      assert.equal(pipelock(['generate', 'config', '--preset', preset, '--out', out]).code, 0)
      const c = pipelock(['check', '--config', out])
      assert.equal(c.code, 0, c.stderr)
      assert.ok(
        c.stderr.split('\n').includes('WARNING: tool_chain_detection.action: block applies to custom_patterns; the built-in patterns keep warn unless pattern_overrides names them (still warn: read-then-exec, read-write-send, env-then-network, directory-scan, write-execute, write-chmod-execute, read-sensitive-write, shell-burst, write-persist, persist-callback)'),
        c.stderr,
      )
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('generate …: --output creates missing parent directories (0750); an existing file is still refused', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-gencfg-'))
  try {
    const cfg = path.join(dir, 'pipelock.yaml')
    assert.equal(pipelock(['generate', 'config', '--preset', 'balanced', '--output', cfg]).code, 0)
    // The --help example: generate kubernetes --config pipelock.yaml --output deploy/agent.yaml
    const k = pipelock(['generate', 'kubernetes', '--config', 'pipelock.yaml', '--output', 'deploy/agent.yaml'], dir)
    assert.equal(k.code, 0, k.stderr)
    // Relative paths are named as resolved against the working directory.
    assert.equal(k.stderr, `wrote ${path.join(dir, 'deploy', 'agent.yaml')}\n`)
    assert.equal(statSync(path.join(dir, 'deploy')).mode & 0o7777, 0o750)
    assert.equal(statSync(path.join(dir, 'deploy', 'agent.yaml')).mode & 0o777, 0o600)
    const again = pipelock(['generate', 'kubernetes', '--config', 'pipelock.yaml', '--output', 'deploy/agent.yaml'], dir)
    assert.equal(again.code, 1)
    assert.equal(again.stderr, `${path.join(dir, 'deploy', 'agent.yaml')} already exists [FILE_EXISTS]; hint: pass --force to overwrite it\n`)
    const nested = pipelock(['generate', 'systemd', '--config', 'pipelock.yaml', '--output', 'a/b/pipelock.service'], dir)
    assert.equal(nested.code, 0, nested.stderr)
    for (const d of ['a', 'a/b']) assert.equal(statSync(path.join(dir, d)).mode & 0o7777, 0o750, d)
    const c = pipelock(['generate', 'config', '--preset', 'strict', '--output', 'conf/strict.yaml'], dir)
    assert.equal(c.code, 0, c.stderr)
    // A file where a directory must be: one line, nothing written.
    const blocked = pipelock(['generate', 'config', '--preset', 'strict', '--output', 'pipelock.yaml/x.yaml'], dir)
    assert.equal(blocked.code, 1)
    assert.equal(blocked.stderr, `writing ${path.join(cfg, 'x.yaml')}: cannot create its directory ${cfg}: a file is in the way (not a directory); nothing was written [WRITE_FAILED]\n`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('generate …: --output naming a directory says it is a directory (not that it exists), with or without --force', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-e2e-gencfg-dir-'))
  try {
    const cfg = path.join(dir, 'pipelock.yaml')
    assert.equal(pipelock(['generate', 'config', '--output', cfg]).code, 0)
    const line = `writing ${dir}: is a directory [WRITE_FAILED]; hint: name a file to write, not a directory\n`
    for (const args of [['generate', 'config'], ['generate', 'config', '--force'], ['generate', 'systemd', '--config', cfg], ['generate', 'kubernetes', '--config', cfg]]) {
      const r = pipelock([...args, '--output', dir])
      assert.equal(r.code, 1, args.join(' '))
      assert.equal(r.stdout, '')
      assert.equal(r.stderr, line, args.join(' '))
    }
    assert.deepEqual(readdirSync(dir), ['pipelock.yaml'])
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
