/**
 * Attack class: request framing a client library would normalise away, sent on raw sockets to the
 * built forward proxy. `Transfer-Encoding: gzip, chunked` (the parser removes the chunking, not
 * the compression); a key in a chunked trailer or a chunk extension; a second request hidden in
 * the first one's body on a keep-alive connection. The logging upstream records every byte it
 * receives: the key must never be among them.
 */
import assert from 'node:assert/strict'
import {gzipSync, deflateSync} from 'node:zlib'
import {describe, it} from 'node:test'
import {rawExchange} from '../proxy-harness.js'
import {attackRig, AWS_KEY, binaryNoise} from './attack-harness.js'

const chunked = (b: Buffer, trailer = ''): Buffer => Buffer.concat([Buffer.from(b.length.toString(16) + '\r\n'), b, Buffer.from(`\r\n0\r\n${trailer}\r\n`)])
const TEXT = Buffer.from(`note ${AWS_KEY} end`)

// Each exchange below but the last asks `Connection: close`, so it ends when the proxy answers;
// the bound only matters on a loaded machine, where a first answer can take over the default 3 s.
const SLOW = {waitMs: 20_000}

describe('attacks: request framing on raw sockets', {timeout: 60_000}, () => {
  const rig = attackRig()
  const head = (extra: string, ct = 'text/plain'): Buffer => Buffer.from(`POST http://127.0.0.1:${rig.up.port}/framing HTTP/1.1\r\nHost: x\r\nContent-Type: ${ct}\r\n${extra}Connection: close\r\n\r\n`)

  for (const [coding, body] of [['gzip', gzipSync(TEXT)], ['deflate', deflateSync(TEXT)], ['x-custom', gzipSync(TEXT)]] as const) {
    it(`Transfer-Encoding: ${coding}, chunked is refused, not relayed compressed`, async () => {
      rig.up.reset()
      const r = await rawExchange(rig.proxy.port, Buffer.concat([head(`Transfer-Encoding: ${coding}, chunked\r\n`), chunked(body)]), SLOW)
      assert.match(r, /^HTTP\/1\.1 403 /, r)
      assert.match(r, /transfer coding other than chunked cannot be scanned/)
      assert.doesNotMatch(r, new RegExp(coding === 'x-custom' ? 'x-custom' : AWS_KEY))
      assert.equal(rig.up.requests.length, 0)
      assert.ok(!Buffer.from(rig.up.received(), 'latin1').includes(body))
    })
  }

  it('Transfer-Encoding: gzip and chunked as two header lines is refused the same way', async () => {
    rig.up.reset()
    const r = await rawExchange(rig.proxy.port, Buffer.concat([head('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n'), chunked(gzipSync(TEXT))]), SLOW)
    assert.match(r, /^HTTP\/1\.1 403 /, r)
    assert.equal(rig.up.requests.length, 0)
  })

  it('a plain chunked body, and identity, chunked, still pass', async () => {
    rig.up.reset()
    for (const te of ['chunked', 'identity, chunked']) {
      const r = await rawExchange(rig.proxy.port, Buffer.concat([head(`Transfer-Encoding: ${te}\r\n`), chunked(Buffer.from('hello there'))]), SLOW)
      assert.match(r, /^HTTP\/1\.1 200 /, te)
    }
    assert.equal(rig.up.requests.length, 2)
  })

  it('a gzip stream with no Content-Encoding is inflated and scanned, whatever its label', async () => {
    rig.up.reset()
    const gz = gzipSync(TEXT)
    const statuses: number[] = []
    for (const ct of ['application/octet-stream', 'text/plain', 'application/gzip']) {
      const r = await rawExchange(rig.proxy.port, Buffer.concat([head(`Content-Length: ${gz.length}\r\n`, ct), gz]), SLOW)
      statuses.push(Number(/^HTTP\/1\.1 (\d+)/.exec(r)?.[1]))
      assert.match(r, /request body DLP match: AWS Access ID/, ct)
    }
    assert.deepEqual(statuses, [403, 403, 403])
    // A stream cut short (one piece of a resumable upload) is read as far as it goes.
    const cut = gzipSync(Buffer.concat([TEXT, Buffer.from(' plain words'.repeat(40)), binaryNoise(4096, 7)])).subarray(0, 400)
    assert.ok(!cut.toString('latin1').includes('AKIA'))
    const r = await rawExchange(rig.proxy.port, Buffer.concat([head(`Content-Length: ${cut.length}\r\n`, 'application/octet-stream'), cut]), SLOW)
    assert.match(r, /^HTTP\/1\.1 403 [^]*request body DLP match: AWS Access ID/)
    assert.equal(rig.up.requests.length, 0)
  })

  it('a gzip stream that cannot be read is refused; a clean one is forwarded as sent', async () => {
    rig.up.reset()
    const corrupt = Buffer.concat([gzipSync(TEXT).subarray(0, 12), Buffer.from('not deflate at all')])
    const bad = await rawExchange(rig.proxy.port, Buffer.concat([head(`Content-Length: ${corrupt.length}\r\n`), corrupt]), SLOW)
    assert.match(bad, /^HTTP\/1\.1 403 [^]*gzip request body cannot be read/)
    const clean = gzipSync(Buffer.from('hello, plain words'))
    const ok = await rawExchange(rig.proxy.port, Buffer.concat([head(`Content-Length: ${clean.length}\r\n`), clean]), SLOW)
    assert.match(ok, /^HTTP\/1\.1 200 /)
    assert.equal(rig.up.requests.length, 1)
    assert.ok(Buffer.from(rig.up.received(), 'latin1').includes(clean))
  })

  it('a key in a chunked trailer or a chunk extension never reaches the upstream', async () => {
    rig.up.reset()
    const trailer = await rawExchange(rig.proxy.port, Buffer.concat([head('Transfer-Encoding: chunked\r\nTrailer: X-Key\r\n'), chunked(Buffer.from('hello'), `X-Key: ${AWS_KEY}\r\n`)]), SLOW)
    const ext = await rawExchange(rig.proxy.port, Buffer.concat([head('Transfer-Encoding: chunked\r\n'), Buffer.from(`5;k=${AWS_KEY}\r\nhello\r\n0\r\n\r\n`)]), SLOW)
    assert.match(trailer, /^HTTP\/1\.1 200 /)
    assert.match(ext, /^HTTP\/1\.1 200 /)
    assert.ok(!rig.up.received().includes(AWS_KEY))
    assert.ok(!rig.up.received().toLowerCase().includes('x-key'))
  })

  it('a request hidden in the body of a keep-alive request is judged on its own', async () => {
    rig.up.reset()
    const target = `http://127.0.0.1:${rig.up.port}/framing`
    const hidden = `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${AWS_KEY.length}\r\nConnection: close\r\n\r\n${AWS_KEY}`
    const r = await rawExchange(rig.proxy.port, Buffer.from(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello${hidden}`))
    assert.match(r, /^HTTP\/1\.1 200 [^]*HTTP\/1\.1 403 /, r)
    assert.equal(rig.up.requests.length, 1)
    assert.ok(!rig.up.received().includes(AWS_KEY))
  })
})
