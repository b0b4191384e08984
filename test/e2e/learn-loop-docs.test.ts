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
  // A loopback network of its own (127.N.M.2/3 instead of 127.0.0.2/3): the demo API binds port 80,
  // so two runs at once (another checkout, the closed-loop test) must not meet there.
  const net = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`
  const moved = script.replaceAll('127.0.0.2', `${net}.2`).replaceAll('127.0.0.3', `${net}.3`).replaceAll('8888', port)
  const bin = mkdtempSync(path.join(tmpdir(), 'pl-docs-bin-'))
  writeFileSync(path.join(bin, 'pipelock'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(repoPath('bin', 'run.js'))} "$@"\n`)
  chmodSync(path.join(bin, 'pipelock'), 0o755)
  const home = mkdtempSync(path.join(tmpdir(), 'pl-docs-home-'))
  // Its own process group: when a step fails under `set -e`, the background proxy and API of the
  // script would keep the pipes open (and the test waiting); the group is killed in any case.
  const proc = spawn('bash', ['-c', 'set -eu\n' + moved], {detached: true, env: {...process.env, HOME: home, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH ?? ''}`}})
  let out = ''
  let err = ''
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()))
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()))
  let code: number | null
  try {
    code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 180_000)
      proc.once('exit', (c) => {
        clearTimeout(timer)
        setTimeout(() => resolve(c), 200) // let the last output arrive
      })
    })
  } finally {
    try {
      process.kill(-(proc.pid as number), 'SIGKILL')
    } catch {
      // the group is already gone
    }
  }
  assert.equal(code, 0, `${out}\n${err}`)
  assert.match(out, /^observation session started: session_id=/m)
  assert.match(out, /^compile: \d+ events, \d+ rules, written to /m)
  assert.match(out, /^promote: manifest sha256:[0-9a-f]{64} generation 1 active$/m)
  assert.match(out, /"learn_lock":\{"mode":"live","active_manifest_hash":"sha256:[0-9a-f]{64}","generation":1,/)
  assert.match(out, /^200$/m)
  assert.match(out, /^X-Pipelock-Block-Reason: contract_default_deny\r?$/m)
  assert.match(out, /^X-Pipelock-Block-Reason-Receipt: [0-7][0-9A-HJKMNP-TV-Z]{25}\r?$/m)
  assert.match(out, /CHAIN VALID/)
  // step 7: the store's history, then the rollback line as documented (every required flag)
  assert.match(out, /^generation 1 \(active\): promote$/m)
  assert.match(out, /^rollback: manifest sha256:[0-9a-f]{64} reactivated as generation 2$/m)
})

test('docs/learn-and-lock.md closed loop: the demo API never serves the folder that holds the keys', () => {
  const doc = readFileSync(repoPath('docs', 'learn-and-lock.md'), 'utf8')
  const script = /```sh\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## 0. The closed loop on one host')))?.[1] ?? ''
  const serve = script.split('\n').filter((l) => /http\.server/.test(l))
  assert.equal(serve.length, 1)
  // an explicit --directory of its own, which is not $D itself (ks/ and root.json live in $D)
  const dirArg = /--directory\s+("[^"]+"|\S+)/.exec(serve[0] as string)?.[1]
  assert.ok(dirArg !== undefined && dirArg !== '"$D"' && dirArg !== '$D' && dirArg !== '.', serve[0])
  assert.ok(!/^cd "\$D\/www"|--directory "\$D\/ks/.test(script))
  assert.ok(!script.includes(`${(dirArg as string).replace(/"/g, '')}/ks`), 'keys are not under the served folder')
})
