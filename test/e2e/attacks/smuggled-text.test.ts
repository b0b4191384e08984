/**
 * Attack class: text hidden in invisible code points ("ASCII smuggling"). An injection written in
 * Unicode tag characters, or as UTF-8 bytes in variation selectors, after a visible sentence is
 * invisible on screen and removed by the normalisation passes, but read by a language model: it
 * is blocked on the forward proxy under text, HTML and JSON types, in an SSE event and on /fetch.
 * A key written in tag characters in a request body is refused before it leaves.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {rawHttp} from '../proxy-harness.js'
import {attackRig, AWS_KEY, forwardPost, inTagCharacters, inVariationSelectors} from './attack-harness.js'

describe('attacks: an injection hidden in tag characters or variation selectors', {timeout: 60_000}, () => {
  const rig = attackRig()
  const typed = (prefix: string, ct: string): string => `http://127.0.0.1:${rig.up.port}/typed?prefix=${prefix}&ct=${encodeURIComponent(ct)}`

  it('forward proxy: 403 prompt_injection under text, HTML and JSON types', async () => {
    for (const prefix of ['tags', 'selectors']) {
      for (const ct of ['text/plain', 'text/html', 'application/json']) {
        const r = await rawHttp(rig.proxy.port, {path: typed(prefix, ct)})
        assert.equal(r.status, 403, `${prefix} ${ct}: ${r.status} ${r.body}`)
        assert.equal(r.headers['x-pipelock-block-reason'], 'prompt_injection', `${prefix} ${ct}`)
      }
    }
  })

  it('an SSE event carrying it is never relayed; /fetch blocks it', async () => {
    const sse = await rawHttp(rig.proxy.port, {path: typed('tags', 'text/event-stream')})
    assert.ok(!sse.body.includes(inTagCharacters('previous')), 'the hidden text is not relayed')
    const f = await rawHttp(rig.proxy.port, {path: `/fetch?url=${encodeURIComponent(typed('selectors', 'text/plain'))}`})
    assert.equal(f.status, 403, f.body)
    assert.equal(f.headers['x-pipelock-block-reason'], 'prompt_injection')
  })

  it('a key written in tag characters or variation selectors in a request body: 403, nothing upstream', async () => {
    rig.up.reset()
    for (const hidden of [inTagCharacters(AWS_KEY), inVariationSelectors(AWS_KEY)]) {
      for (const [ct, body] of [['text/plain', `note ${hidden}`], ['application/json', JSON.stringify({note: hidden})]] as const) {
        assert.equal(await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, ct, body), 403, ct)
      }
    }
    assert.equal(rig.up.requests.length, 0)
  })

  it('visible text with an emoji and its variation selector passes', async () => {
    assert.equal(await forwardPost(rig.proxy.port, `http://127.0.0.1:${rig.up.port}/`, 'text/plain', 'great work \u2764\ufe0f see you'), 200)
  })
})
