import assert from 'node:assert/strict'
import dgram from 'node:dgram'
import type {AddressInfo} from 'node:net'
import {test} from 'node:test'
import {buildEvent, RateLimitedLog, UDP_MAX_BYTES} from '../../../src/plugins/emit/index.js'
import {openSyslogTransport} from '../../../src/plugins/emit/syslog-sink.js'

test('UDP syslog: a line over 8 KiB has long values truncated (header intact); one still too long is dropped as too_large', async () => {
  const server = dgram.createSocket('udp4')
  const got: Buffer[] = []
  server.on('message', (m) => got.push(m))
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const t = await openSyslogTransport({
    address: {network: 'udp', host: '127.0.0.1', port},
    format: 'bsd',
    identity: {facility: 'local0', tag: 'pipelock', hostname: 'h', pid: 7, offsetMinutes: () => 0},
    tls: {caFile: '', certFile: '', keyFile: '', serverName: ''},
    log: new RateLimitedLog(() => undefined, () => 0),
  })
  const signal = new AbortController().signal
  const big = buildEvent('blocked', {url: 'https://x.example/' + 'a'.repeat(20_000), scanner: 'length'}, 1779697812000000000n, 'i')
  assert.equal(await t.send(big, signal), 'sent')
  const many: Record<string, string> = {}
  for (let i = 0; i < 40; i++) many[`f${String(i).padStart(2, '0')}`] = 'b'.repeat(400)
  assert.equal(await t.send(buildEvent('blocked', many, 1n, 'i'), signal), 'too_large')
  await new Promise((r) => setTimeout(r, 200))
  await t.dispose()
  server.close()
  assert.equal(got.length, 1)
  const line = got[0]!.toString('utf8')
  assert.ok(got[0]!.length <= UDP_MAX_BYTES)
  assert.ok(line.startsWith('<132>2026-05-25T08:30:12Z h pipelock[7]: {"severity":"warn","type":"blocked"'))
  assert.ok(line.includes('"fields":{"scanner":"length","url":"https://x.example/aaa'))
  assert.ok(line.endsWith('a…"}}\n'), line.slice(-80)) // the value is cut to 256 bytes and marked
})
