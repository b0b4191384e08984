import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {prepareCaptureDir} from '../../src/plugins/capture/index.js'
import {runCli} from '../helpers/cli.js'

// The capture directory is checked at start: a file (or a path under a file) is refused with one
// line before anything claims to be observing; a missing directory is created.

const hint = 'hint: give a directory pipelock can create or write (--capture-dir, --capture-output or learn.capture_dir)'

test('learn observe and run refuse a capture directory that is a file, or lies under one', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-capdir-'))
  try {
    const file = path.join(dir, 'afile')
    writeFileSync(file, '')
    const observe = runCli(['learn', 'observe', '--capture-dir', file, '--listen', '127.0.0.1:19531'])
    assert.equal(observe.status, 1)
    assert.equal(observe.stdout, '')
    assert.equal(observe.stderr, `capture directory ${file}: is not a directory [CAPTURE_DIR_UNUSABLE]; ${hint}\n`)
    const under = path.join(file, 'sub')
    const run = runCli(['run', '--capture-output', under, '--listen', '127.0.0.1:19532'])
    assert.equal(run.status, 1)
    assert.equal(run.stderr.split('\n').filter((l) => l.startsWith('capture directory')).join('\n'), `capture directory ${under}: cannot be created: not a directory [CAPTURE_DIR_UNUSABLE]; ${hint}`)
    assert.doesNotMatch(run.stderr, /ENOTDIR|INTERNAL|    at /)
    const observeUnder = runCli(['learn', 'observe', '--capture-dir', under, '--listen', '127.0.0.1:19533'])
    assert.equal(observeUnder.status, 1)
    assert.equal(observeUnder.stderr, `capture directory ${under}: cannot be created: not a directory [CAPTURE_DIR_UNUSABLE]; ${hint}\n`)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a missing capture directory is created 0700 at start', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-capdir-'))
  try {
    const cap = path.join(dir, 'new', 'capture')
    prepareCaptureDir(cap)
    assert.equal(statSync(cap).mode & 0o777, 0o700)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn observe refuses an unusable salt before its start line and before making the capture directory; pipelock check refuses the same config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-salt-'))
  try {
    const salt = path.join(dir, 'salt')
    writeFileSync(salt, 'a-salt-value\n', {mode: 0o644})
    const cases: [string, string][] = [
      [`file:${salt}`, `learn.privacy.salt_source: ${salt} must not be readable by group or others (chmod 600) [CONFIG_INVALID]\n`],
      [`file:${path.join(dir, 'missing')}`, `learn.privacy.salt_source: ${path.join(dir, 'missing')}: no such file or directory [CONFIG_INVALID]\n`],
      // Without file: the path would be the salt's own text.
      [salt, `learn.privacy.salt_source: "${salt}" looks like a file path, which would be used as the salt's own text; write file:${salt} to read the salt from that file, or \${VAR} to read it from an environment variable [CONFIG_INVALID]\n`],
    ]
    for (const [source, refusal] of cases) {
      const config = path.join(dir, 'pipelock.yaml')
      writeFileSync(config, `learn:\n  privacy:\n    salt_source: "${source}"\n`)
      const cap = path.join(dir, 'cap')
      const observe = runCli(['learn', 'observe', '--config', config, '--capture-dir', cap, '--listen', '127.0.0.1:0'])
      assert.equal(observe.status, 2, observe.stderr)
      assert.equal(observe.stdout, '')
      assert.equal(observe.stderr, refusal)
      assert.equal(existsSync(cap), false, 'no capture directory is left behind')
      const check = runCli(['check', '--config', config])
      assert.notEqual(check.status, 0)
      assert.ok(check.stderr.includes(refusal.replace(/\n$/, '')), check.stdout + check.stderr)
    }
    // The same file with owner-only permissions passes check.
    chmodSync(salt, 0o600)
    writeFileSync(path.join(dir, 'ok.yaml'), `learn:\n  privacy:\n    salt_source: "file:${salt}"\n`)
    assert.equal(runCli(['check', '--config', path.join(dir, 'ok.yaml')]).status, 0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
