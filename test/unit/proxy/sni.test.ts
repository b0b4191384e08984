import assert from 'node:assert/strict'
import net from 'node:net'
import tls from 'node:tls'
import {test} from 'node:test'
import {classifySni, parseClientHelloSni} from '../../../src/plugins/proxy/index.js'

/** A real ClientHello, captured from node's TLS client on a loopback socket. */
async function captureClientHello(servername?: string): Promise<Buffer> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as net.AddressInfo).port
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      s.once('data', (c: Buffer) => {
        resolve(c)
        s.destroy()
      })
    })
  })
  const client = tls.connect({host: '127.0.0.1', port, ...(servername ? {servername} : {}), rejectUnauthorized: false})
  client.on('error', () => undefined)
  const hello = await got
  client.destroy()
  server.close()
  return hello
}

test('SNI: a real ClientHello parses; match is case-insensitive and ignores one trailing dot', async () => {
  const hello = await captureClientHello('API.Example.com')
  assert.deepEqual(parseClientHelloSni(hello), {sni: 'API.Example.com'})
  assert.equal(classifySni(hello, 'api.example.com'), 'match')
  assert.equal(classifySni(hello, 'api.example.com.'), 'match')
  assert.equal(classifySni(hello, 'evil.example.com'), 'mismatch')
})

test('SNI: a ClientHello without server_name is no_extension', async () => {
  const hello = await captureClientHello()
  assert.deepEqual(parseClientHelloSni(hello), {category: 'no_extension'})
})

test('SNI: non-TLS and mangled records are classified, never thrown', async () => {
  assert.deepEqual(parseClientHelloSni(Buffer.from('GET / HTTP/1.1\r\n')), {category: 'not_tls'})
  assert.deepEqual(parseClientHelloSni(Buffer.alloc(0)), {category: 'not_tls'})
  const hello = await captureClientHello('a.example')
  for (let cut = 1; cut < hello.length; cut += 7) {
    const r = parseClientHelloSni(hello.subarray(0, cut))
    assert.ok('category' in r && r.category === 'malformed_tls', `cut at ${cut}`)
  }
  // Random bytes after a handshake record header: classified, no exception.
  for (let i = 0; i < 500; i++) {
    const junk = Buffer.from(Array.from({length: 5 + (i % 300)}, (_, j) => (j === 0 ? 0x16 : (i * 31 + j * 17) & 0xff)))
    const r = parseClientHelloSni(junk)
    assert.ok('sni' in r || ['malformed_tls', 'no_extension'].includes(r.category))
  }
})
