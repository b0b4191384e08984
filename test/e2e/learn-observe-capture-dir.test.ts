import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
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
