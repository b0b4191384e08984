import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmodSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'
import {freePort} from './proxy-harness.js'

// docs/learn-and-lock.md "The closed loop on one host" is runnable: run that block with bash and
// `pipelock` on PATH (a shim that execs the built CLI, so `$!` is the proxy itself). The demo's
// addresses are moved off the ones the closed-loop e2e test binds, so both can run at once.

test('docs/learn-and-lock.md closed loop runs as written', async () => {
  const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
  const section = doc.slice(doc.indexOf('## 0. The closed loop on one host'))
  const script = /```sh\n([\s\S]*?)```/.exec(section)?.[1]
  assert.ok(script, 'closed-loop block present')
  const port = String(await freePort())
  const moved = script.replaceAll('127.0.0.2', '127.0.0.22').replaceAll('127.0.0.3', '127.0.0.23').replaceAll('8888', port)
  const bin = mkdtempSync(path.join(tmpdir(), 'pl-docs-bin-'))
  writeFileSync(path.join(bin, 'pipelock'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(repoPath('bin', 'run.js'))} "$@"\n`)
  chmodSync(path.join(bin, 'pipelock'), 0o755)
  const home = mkdtempSync(path.join(tmpdir(), 'pl-docs-home-'))
  const proc = spawn('bash', ['-c', 'set -eu\n' + moved], {env: {...process.env, HOME: home, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH ?? ''}`}})
  let out = ''
  let err = ''
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  const code = await new Promise<number | null>((resolve) => proc.once('close', resolve))
  assert.equal(code, 0, `${out}\n${err}`)
  assert.match(out, /^observation session started: session_id=/m)
  assert.match(out, /^compile: \d+ events, \d+ rules, written to /m)
  assert.match(out, /^promote: manifest sha256:[0-9a-f]{64} generation 1 active$/m)
  assert.match(out, /"learn_lock":\{"mode":"live","active_manifest_hash":"sha256:[0-9a-f]{64}","generation":1,/)
  assert.match(out, /^200$/m)
  assert.match(out, /^X-Pipelock-Block-Reason: contract_default_deny\r?$/m)
  assert.match(out, /^X-Pipelock-Block-Reason-Receipt: [0-7][0-9A-HJKMNP-TV-Z]{25}\r?$/m)
  assert.match(out, /CHAIN VALID/)
})
