/**
 * Attack class: text spelt with the backslash escapes of JSON string literals. A JSON response
 * whose injection has its words parted by `\t` (or a letter written `\u0069`) reads, once the
 * agent parses it, as the instruction the patterns look for; it is blocked on the forward proxy,
 * in an SSE event and on /fetch.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackRig, AWS_KEY, forwardPost} from './attack-harness.js'

describe('attacks: an injection spelt with JSON escapes in a response', {timeout: 60_000}, () => {
  const rig = attackRig()
  const typed = (as: string, ct: string): string => `http://127.0.0.1:${rig.up.port}/typed?as=${as}&ct=${encodeURIComponent(ct)}`

  it('forward proxy: words parted by \\t, or a letter as \\u0069, under JSON and text types: 403', async () => {
    for (const as of ['json-tabs', 'json-u']) {
      for (const ct of ['application/json', 'text/plain', 'application/x-ndjson']) {
        const r = await rawHttp(rig.proxy.port, {path: typed(as, ct)})
        assert.equal(r.status, 403, `${as} ${ct}: ${r.status} ${r.body}`)
        assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', `${as} ${ct}`)
        assert.ok(!r.body.includes('previous'), `${as} ${ct}`)
      }
    }
  })

  it('an SSE event carrying the escaped JSON is never relayed', async () => {
    const r = await rawHttp(rig.proxy.port, {path: typed('json-tabs', 'text/event-stream')})
    assert.ok(!r.body.includes('previous'), r.body)
  })

  it('/fetch blocks it too', async () => {
    const r = await rawHttp(rig.proxy.port, {path: `/fetch?url=${encodeURIComponent(typed('json-u', 'application/json'))}`})
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection')
  })
})

describe('attacks: a key spelt with JSON escapes in a request body under any label', {timeout: 60_000}, () => {
  const rig = attackRig()

  it('\\u0041 or \\x41 for a letter of the key, labelled text, NDJSON, binary or nothing: 403, nothing upstream', async () => {
    rig.up.reset()
    const bodies = [`{"note":"\\u0041${AWS_KEY.slice(1)}"}`, `{"note":"\\u{41}${AWS_KEY.slice(1)}"}\n{"n":2}`, `key = "\\x41\\x4b${AWS_KEY.slice(2)}"`, `{"note":"\\\\u0041${AWS_KEY.slice(1)}"}`]
    for (const body of bodies) {
      for (const ct of ['text/plain', 'application/x-ndjson', 'application/octet-stream', '']) {
        const status = await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, ct, body)
        assert.equal(status, 403, `${JSON.stringify(ct)} ${body}`)
      }
    }
    assert.equal(rig.up.requests.length, 0)
    assert.ok(!rig.up.received().includes(AWS_KEY.slice(4)))
  })

  it('a clean body with ordinary escapes still passes', async () => {
    const status = await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, 'text/plain', '{"msg":"caf\\u00e9\\tand\\nmore \\"quoted\\""}')
    assert.equal(status, 200)
  })
})
