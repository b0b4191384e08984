import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'

// Exact output of the capture flags' refusals (`learn observe`, `run --capture-*`).

const home = mkdtempSync(path.join(tmpdir(), 'pl-observe-home-'))
const env = {HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), PIPELOCK_CONFIG: ''}

test('learn observe without a capture directory: one line, a hint, exit 2, nothing on stdout', () => {
  const r = runCli(['learn', 'observe'], {env})
  assert.equal(r.status, 2)
  assert.equal(r.stdout, '')
  assert.equal(r.stderr, 'learn observe: no capture directory: pass --capture-dir or set learn.capture_dir [USAGE]; hint: pipelock learn observe --capture-dir /var/lib/pipelock/capture\n')
})

test('run --capture-duration without --capture-output is refused before anything starts', () => {
  const r = runCli(['run', '--capture-duration', '1h', '--listen', '127.0.0.1:0'], {env})
  assert.equal(r.status, 2)
  assert.equal(r.stderr, '--capture-duration needs a capture directory (--capture-output) [USAGE]\n')
})

test('run --capture-duration with a bad duration names it', () => {
  const r = runCli(['run', '--capture-output', path.join(home, 'cap'), '--capture-duration', 'soon', '--listen', '127.0.0.1:0'], {env})
  assert.equal(r.status, 2)
  assert.equal(r.stderr, 'invalid duration "soon" [USAGE]\n')
})

test('learn observe --capture-duration: when the time is up it says so, then stops the proxy (exit 0)', () => {
  const r = runCli(['learn', 'observe', '--capture-dir', path.join(home, 'cap-duration'), '--capture-duration', '1s', '--listen', '127.0.0.1:0'], {env})
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stderr.split('\n')
  const at = lines.indexOf('pipelock: capture: duration reached; capture stopped, stopping the proxy (learn observe)')
  assert.ok(at >= 0, r.stderr)
  assert.ok(lines.slice(at).some((l) => l.includes('"event":"shutdown"')), r.stderr)
})

test('learn observe --config and --capture-dir relative to the working directory: the banner names the config by its absolute path, as run does', () => {
  const cwd = path.join(home, 'rel')
  mkdirSync(cwd, {recursive: true})
  writeFileSync(path.join(cwd, 'observe.yaml'), 'fetch_proxy: {listen: "127.0.0.1:0"}\n')
  const r = runCli(['learn', 'observe', '--config', 'observe.yaml', '--capture-dir', 'cap', '--capture-duration', '1s'], {env, cwd})
  assert.equal(r.status, 0, r.stderr)
  assert.ok(r.stderr.includes(`\n  Config: ${path.join(cwd, 'observe.yaml')} (hot-reload enabled, SIGHUP to reload)\n`), r.stderr)
  assert.match(r.stdout, new RegExp(`capture_dir=${path.join(cwd, 'cap').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\n$`))
})
