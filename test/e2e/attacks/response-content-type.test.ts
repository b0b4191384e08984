/**
 * Attack class (issue 10 item 1): a prompt injection served under a Content-Type the proxy used
 * to relay unscanned. Every non-SSE body is scanned whatever its declared type; the media policy
 * judges real media by their bytes.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackConfig, attackRig, binaryNoise, curl, forwardPost, hasCurl, INJECTION, strayByteText} from './attack-harness.js'

const TYPES = ['application/x-yaml', 'application/toml', 'application/pdf', 'font/woff2', 'application/x-invented', 'image/png', 'audio/mpeg', 'application/octet-stream', 'text/plain']

describe('attacks: response scanning does not trust Content-Type', {timeout: 60_000}, () => {
  const rig = attackRig()

  it('forward proxy (node http, absolute URI): every declared type is scanned and blocked', async () => {
    for (const ct of TYPES) {
      const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/typed?ct=${encodeURIComponent(ct)}`})
      assert.equal(r.status, 403, `${ct}: ${r.status} ${r.body}`)
      // Declared image/audio types with text bytes fail the media policy first; either way a block.
      assert.ok(['prompt_injection', 'media_policy'].includes(String(r.headers['x-pipelock-block-reason'])), ct)
      assert.ok(!r.body.includes('previous instructions'), ct)
    }
  })

  it('a media signature in front of the text does not exempt it', async () => {
    const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/typed?ct=image/gif&prefix=gif`})
    assert.equal(r.status, 403)
    assert.ok(!r.body.includes('previous instructions'))
  })

  it('an injection inside binary noise is blocked under a binary label; binary bytes alone pass unchanged (issue 36)', async () => {
    for (const ct of ['application/octet-stream', 'application/zip', 'application/x-invented']) {
      const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/typed?ct=${encodeURIComponent(ct)}&prefix=noise`})
      assert.equal(r.status, 403, `${ct}: ${r.status}`)
      assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', ct)
    }
    const bin = await new Promise<Buffer>((resolve, reject) => {
      const req = http.request({host: '127.0.0.1', port: rig.proxy.port, path: `http://127.0.0.1:${rig.up.port}/noise?bytes=65536`}, (resp) => {
        const chunks: Buffer[] = []
        resp.on('data', (c: Buffer) => chunks.push(c))
        resp.on('end', () => (resp.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`status ${resp.statusCode}`))))
      })
      req.on('error', reject)
      req.end()
    })
    assert.ok(bin.equals(binaryNoise(65536, 3)))
  })

  it('an injection with U+FFFD written inside a word, under text/html, is refused', async () => {
    const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/typed?ct=text%2Fhtml&prefix=fffd`})
    assert.equal(r.status, 403, `${r.status} ${r.body}`)
    assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
    assert.ok(!r.body.includes('previous instructions'))
  })

  it('an injection whose words stray bytes part, in Latin-1 prose, is blocked both ways (issue 36)', async () => {
    // No piece between two invalid bytes is a 12-byte text run: the spoilt text reads the words.
    for (const ct of ['text/html', 'application/octet-stream']) {
      const r = await rawHttp(rig.proxy.port, {path: `http://127.0.0.1:${rig.up.port}/typed?ct=${encodeURIComponent(ct)}&prefix=stray`})
      assert.equal(r.status, 403, `${ct}: ${r.status}`)
      assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', ct)
    }
    const target = `http://127.0.0.1:${rig.up.port}/upload`
    assert.equal(await forwardPost(rig.proxy.port, target, 'application/octet-stream', strayByteText(INJECTION, 0xc0)), 403)
    // A key whose pieces a stray byte parts is whole again for DLP; the clean prose alone passes.
    assert.equal(await forwardPost(rig.proxy.port, target, 'application/octet-stream', strayByteText('AKIA IOSFODNN7 EXAMPLE')), 403)
    assert.equal(await forwardPost(rig.proxy.port, target, 'application/octet-stream', strayByteText('nothing to see here')), 200)
  })

  it('curl through the forward proxy gets the block, never the body', {skip: !hasCurl && 'curl not installed'}, async () => {
    const r = await curl(['-x', `http://${rig.proxy.addr}`, '-w', '\n%{http_code}', `http://127.0.0.1:${rig.up.port}/typed?ct=application/x-yaml`])
    assert.ok(r.stdout.endsWith('\n403'), r.stdout)
    assert.ok(!r.stdout.includes(INJECTION))
  })

  it('/fetch scans the same types (unchanged)', async () => {
    const r = await rawHttp(rig.proxy.port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${rig.up.port}/typed?ct=application/toml`)}`})
    assert.equal(r.status, 403)
  })
})

describe('attacks: /fetch answers the page title and the Content-Type, so they are scanned', {timeout: 60_000}, () => {
  const fetchPage = (port: number, upPort: number, q: string): Promise<{status: number; headers: http.IncomingHttpHeaders; body: string}> =>
    rawHttp(port, {path: `/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upPort}/page?${q}`)}`})

  describe('action block', () => {
    const rig = attackRig()
    it('an injection in the title only, or in a Content-Type parameter only: 403 prompt_injection', async () => {
      for (const q of ['title=inj', 'ct=inj']) {
        const r = await fetchPage(rig.proxy.port, rig.up.port, q)
        assert.equal(r.status, 403, `${q}: ${r.body}`)
        assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', q)
        assert.ok(!r.body.includes('previous instructions'), q)
      }
    })
  })

  describe('action strip', () => {
    const rig = attackRig(attackConfig().replace('response_scanning:\n  action: block', 'response_scanning:\n  action: strip'))
    it('an injection in the title is stripped out of what the agent gets; a clean title is kept as the title', async () => {
      const inTitle = JSON.parse((await fetchPage(rig.proxy.port, rig.up.port, 'title=inj')).body) as {title: string; content: string}
      assert.ok(!`${inTitle.title} ${inTitle.content}`.includes('previous instructions'), JSON.stringify(inTitle))
      const inText = JSON.parse((await fetchPage(rig.proxy.port, rig.up.port, 'text=inj')).body) as {title: string; content: string}
      assert.equal(inText.title, 'Weather today')
      assert.ok(!inText.content.includes('previous instructions'), JSON.stringify(inText))
      assert.ok(!inText.content.includes('Weather today'), JSON.stringify(inText))
      // A Content-Type cannot be stripped: the answer is a block.
      const inType = await fetchPage(rig.proxy.port, rig.up.port, 'ct=inj')
      assert.equal(inType.status, 403, inType.body)
      assert.ok(!inType.body.includes('previous instructions'))
    })
  })
})
