/**
 * A connect that pipelock times out is coded ETIMEDOUT, as the kernel codes its own: the 502's
 * hint and the audit line then name a timeout (upstream-cause.ts) instead of an error without a
 * code. The upstream that never completes a connect is real: a listener whose process is
 * stopped, with its accept queue (backlog 1) already full, so the kernel answers no further SYN.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import net from 'node:net'
import {test} from 'node:test'
import {dialValidated} from '../../../src/plugins/proxy/ssrf-dialer.js'
import {upstreamCause, upstreamCauseHint} from '../../../src/plugins/proxy/upstream-cause.js'
import {createUrlScanner, defaultScannerSettings} from '../../../src/plugins/scanner/index.js'

test('a connect that does not complete in connectTimeoutMs fails with ETIMEDOUT, read as a timeout', async (t) => {
  const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({port: 0, host: '127.0.0.1', backlog: 1}, function () { console.log(this.address().port) })"], {stdio: ['ignore', 'pipe', 'inherit']})
  const held: net.Socket[] = []
  t.after(() => {
    child.kill('SIGKILL')
    for (const s of held) s.destroy()
  })
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))))
  process.kill(child.pid!, 'SIGSTOP')
  // Fill the accept queue: the kernel completes these connects for the stopped process.
  for (let i = 0; i < 2; i++) {
    const s = net.connect({port, host: '127.0.0.1'})
    held.push(s)
    await new Promise<void>((resolve, reject) => s.once('connect', resolve).once('error', reject))
  }
  const scanner = createUrlScanner({...defaultScannerSettings(), ssrfIpAllowlist: ['127.0.0.1/32']})
  const err = await dialValidated({scanner: () => scanner, connectTimeoutMs: 300}, '127.0.0.1', port).then(
    (s) => (s.destroy(), assert.fail('the connect completed')),
    (e: unknown) => e as Error & {code?: string},
  )
  assert.equal(err.code, 'ETIMEDOUT')
  assert.equal(err.message, 'connect timed out')
  const cause = upstreamCause(err)
  assert.equal(cause.cls, 'timeout')
  assert.match(upstreamCauseHint(cause), /^Upstream failed: connection timed out \(ETIMEDOUT\)\. /)
})
