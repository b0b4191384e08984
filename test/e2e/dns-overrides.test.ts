/**
 * `dns.host_overrides` through the built CLI (scanners-extra §6): an override steers /fetch, the
 * forward proxy and CONNECT to a local origin without system DNS; it never exempts the SSRF check
 * (an overridden name resolving to loopback is blocked unless trusted); raw IPs ignore overrides.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {baseConfig, KIB_BODY, rawHttp, startHttpUpstream, startProxy, tcpUpstream, tempDir, until, type RunningProxy, type Upstream} from './proxy-harness.js'

describe('dns.host_overrides steer every dial and feed the SSRF check', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  before(async () => {
    up = await startHttpUpstream()
    proxy = await startProxy(baseConfig([
      'dns:',
      '  host_overrides:',
      // Keys are normalised: case and the trailing DNS dot do not matter.
      '    Fixture.Example.TEST.: ["127.0.0.1"]',
      '    untrusted.example.test: ["127.0.0.1"]',
      '    metadata.example.test: ["169.254.169.254"]',
      'trusted_domains: ["fixture.example.test"]',
    ].join('\n')))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  it('/fetch and the forward proxy reach the local origin through the override', async () => {
    const f = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://fixture.example.test:${up.port}/page`)}`})
    assert.equal(f.status, 200, f.body)
    assert.ok(f.body.includes('Hello'), f.body)
    const fwd = await rawHttp(proxy.port, {path: `http://fixture.example.test:${up.port}/kib`})
    assert.equal(fwd.status, 200)
    assert.equal(fwd.body, KIB_BODY.toString('utf8'))
  })

  it('CONNECT dials the overridden address', async () => {
    let accepted = 0
    const tcp = await tcpUpstream(() => accepted++)
    try {
      const sock = net.connect({host: '127.0.0.1', port: proxy.port})
      sock.on('error', () => undefined)
      const head = await new Promise<string>((resolve) => {
        let h = ''
        sock.on('data', (c: Buffer) => {
          h += c.toString('latin1')
          if (h.includes('\r\n\r\n')) resolve(h)
        })
        sock.write(`CONNECT fixture.example.test:${tcp.port} HTTP/1.1\r\nHost: fixture.example.test:${tcp.port}\r\n\r\n`)
      })
      assert.ok(head.startsWith('HTTP/1.1 200 '), head)
      // The origin's accept and the client's 200 are separate events in this process: wait for the accept.
      assert.ok(await until(async () => accepted === 1), 'the tunnel was dialled to the local origin')
      sock.destroy()
    } finally {
      await tcp.close()
    }
  })

  it('an override never exempts the SSRF check: untrusted loopback and metadata are blocked; raw IPs ignore overrides', async () => {
    const u = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://untrusted.example.test:${up.port}/kib`)}`})
    assert.equal(u.status, 403)
    assert.equal(u.headers['x-pipelock-block-reason'], 'ssrf_private_ip')
    assert.ok(u.body.includes('SSRF blocked: untrusted.example.test resolves to internal IP 127.0.0.1'), u.body)
    const m = await rawHttp(proxy.port, {path: 'http://metadata.example.test/latest/meta-data/'})
    assert.equal(m.status, 403)
    assert.equal(m.headers['x-pipelock-block-reason'], 'ssrf_metadata')
    const raw = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
    assert.equal(raw.status, 403, 'loopback by IP stays blocked')
  })
})

describe('dns.host_overrides validation (check and run alike)', {timeout: 30_000}, () => {
  it('refuses URL, wildcard, host:port and IP-literal keys and non-IP values', () => {
    const dir = tempDir()
    const cases: Array<[string, string]> = [
      ['    "https://x.example": ["127.0.0.1"]', 'dns.host_overrides.https://x.example: use a hostname, not a URL or host:port'],
      ['    "*.example.test": ["127.0.0.1"]', 'dns.host_overrides.*.example.test: wildcards are not supported'],
      ['    "x.example:8080": ["127.0.0.1"]', 'dns.host_overrides.x.example:8080: use a hostname, not a URL or host:port'],
      ['    "10.0.0.1": ["127.0.0.1"]', 'dns.host_overrides.10.0.0.1: IP literals cannot be overridden'],
      ['    "0x7f000001": ["127.0.0.1"]', 'dns.host_overrides.0x7f000001: IP literals cannot be overridden'],
      ['    "x.example": []', 'dns.host_overrides.x.example: at least one IP address required'],
      ['    "x.example": ["localhost"]', 'dns.host_overrides.x.example[0]: "localhost": not an IP address'],
      ['    "X.example": ["127.0.0.1"]\n    "x.example.": ["127.0.0.2"]', 'dns.host_overrides: duplicate hostname "x.example"'],
    ]
    // Every case through `check`; the first two through `run` as well (one validation function decides both).
    cases.forEach(([entry, message], i) => {
      const file = path.join(dir, `c${i}.yaml`)
      writeFileSync(file, `dns:\n  host_overrides:\n${entry}\n`)
      for (const args of [['check', '--config', file], ...(i < 2 ? [['run', '--config', file, '--listen', '127.0.0.1:0']] : [])]) {
        const r = runCli(args)
        assert.notEqual(r.status, 0, `${args[0]} ${entry}`)
        assert.ok(r.stderr.includes(message), `${args[0]} ${entry}: ${r.stderr}`)
      }
    })
  })

  it('the configuration reference\'s example loads', () => {
    const file = path.join(tempDir(), 'ref.yaml')
    writeFileSync(file, 'dns:\n  host_overrides:\n    fixture.example.test:\n      - "127.0.0.1"\ntrusted_domains:\n  - "fixture.example.test"\n')
    const r = runCli(['check', '--config', file])
    assert.equal(r.status, 0, r.stderr)
  })
})
