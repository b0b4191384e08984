/**
 * Attack class (issue 10 item 1): a prompt injection served under a Content-Type the proxy used
 * to relay unscanned. Every non-SSE body is scanned whatever its declared type; the media policy
 * judges real media by their bytes.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackRig, curl, hasCurl, INJECTION} from './attack-harness.js'

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
