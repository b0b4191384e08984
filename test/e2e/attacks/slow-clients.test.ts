/**
 * Slow-client classes (issue 10 item 13): the header-read deadline (5 s) fires on time and the
 * socket is destroyed, not left half-closed holding a descriptor; a client that half-closes
 * after its request still gets its response on every transport.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import {describe, it} from 'node:test'
import {rawExchange} from '../proxy-harness.js'
import {attackRig} from './attack-harness.js'

describe('attacks: slow and half-closing clients', {timeout: 60_000}, () => {
  const rig = attackRig()

  it('an unfinished header block gets 408 within the 5 s deadline and the socket is destroyed', async () => {
    const s = net.connect({host: '127.0.0.1', port: rig.proxy.port, allowHalfOpen: true})
    const start = Date.now()
    let got = ''
    s.on('data', (c: Buffer) => (got += c.toString('latin1')))
    await new Promise<void>((resolve) => s.once('connect', () => resolve()))
    s.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ')
    await new Promise<void>((resolve) => s.once('end', () => resolve()))
    const elapsed = Date.now() - start
    assert.match(got, /^HTTP\/1\.1 408 Request Timeout/)
    assert.ok(elapsed >= 4500 && elapsed < 7500, `deadline fired after ${elapsed} ms`)
    // The server's descriptor is gone: writing more is answered with a reset, not swallowed.
    const outcome = await new Promise<string>((resolve) => {
      s.on('error', (e: Error & {code?: string}) => resolve(e.code ?? 'error'))
      s.on('close', () => resolve('closed'))
      const tick = setInterval(() => s.write('x'), 100)
      setTimeout(() => {
        clearInterval(tick)
        resolve('still open')
      }, 3000)
      s.once('close', () => clearInterval(tick))
    })
    s.destroy()
    assert.notEqual(outcome, 'still open')
    // The refusal has its audit line (no request was read, so no target): the client's address.
    const line = rig.proxy.stdout().split('\n').find((l) => l.includes('"scanner":"request_timeout"'))
    assert.ok(line !== undefined, rig.proxy.stdout())
    const r = JSON.parse(line) as Record<string, unknown>
    assert.deepEqual([r.event, r.message, r.reason, r.status_code, r.client_ip], ['blocked', 'request not received in time', 'ERR_HTTP_REQUEST_TIMEOUT (HTTP/1.1)', 408, '127.0.0.1'])
  })

  it('a client that half-closes after its request gets the response (health, forward, fetch)', async () => {
    const requests = [
      'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
      `GET http://127.0.0.1:${rig.up.port}/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      `GET /fetch?url=${encodeURIComponent(`http://127.0.0.1:${rig.up.port}/`)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    ]
    for (const r of requests) {
      const got = await rawExchange(rig.proxy.port, r, {halfClose: true})
      assert.match(got, /^HTTP\/1\.1 200 OK/, r.split('\r\n')[0])
    }
  })
})
