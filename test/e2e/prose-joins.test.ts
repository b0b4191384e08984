/**
 * Ordinary words joined by the readings that take separators out (text DLP without white space,
 * the URL's noise-stripped and concatenated texts, the dot-free host, values joined) are no key:
 * a chat request about `the canvas element`, a search for `best asian restaurants 2024` and a
 * JSON body `{"type":"canvas","id":"a1b2…"}` reach the upstream through the running proxy,
 * while the same requests carrying a key spaced out or cut into values are refused with
 * `dlp_match`.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {baseConfig, LOOPBACK_BODY_BLOCK, rawHttp, startProxy, startRecordingUpstream, type RunningProxy, type Upstream} from './proxy-harness.js'

// Shaped like an AWS access key id (not the documented example).
const KEY = 'AKIAZ7QW3ERT5YUI6OPL'
const SPACED = KEY.match(/.{4}/g)!.join(' ')

describe('prose joined by the collapsed readings passes; a key cut the same way does not', {timeout: 60_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  const reached: string[] = []

  before(async () => {
    up = await startRecordingUpstream(reached)
    proxy = await startProxy(baseConfig(LOOPBACK_BODY_BLOCK.join('\n')))
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
  })

  const origin = (): string => `http://127.0.0.1:${up.port}`
  const post = async (path: string, body: string): Promise<{status: number; reason: string | string[] | undefined}> => {
    const r = await rawHttp(proxy.port, {method: 'POST', path: `${origin()}${path}`, headers: {'content-type': 'application/json'}, body})
    return {status: r.status, reason: r.headers['x-pipelock-block-reason']}
  }
  const chat = (content: string): string => JSON.stringify({model: 'm', messages: [{role: 'user', content}]})

  it('a chat request, a search URL and a JSON body of ordinary words are forwarded', async () => {
    for (const content of ['draw it on the canvas element renders the chart', 'best asian restaurants 2024 near me', 'our asia pacific region grew strongly']) {
      assert.deepEqual(await post('/v1/chat', chat(content)), {status: 200, reason: undefined}, content)
    }
    assert.deepEqual(await post('/v1/items', JSON.stringify({type: 'canvas', id: 'a1b2c3d4e5f6g7h8'})), {status: 200, reason: undefined})
    for (const q of ['q=the+canvas+element+renders+the+chart&x=1', 'q=best%20asian%20restaurants%202024', 'region=asia&category=electronics']) {
      const fwd = await rawHttp(proxy.port, {path: `${origin()}/search?${q}`})
      assert.deepEqual([fwd.status, fwd.headers['x-pipelock-block-reason']], [200, undefined], `forward ?${q}`)
      const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`${origin()}/search?${q}`)}`})
      assert.deepEqual([fetched.status, fetched.headers['x-pipelock-block-reason']], [200, undefined], `/fetch ?${q}`)
    }
    assert.equal(reached.length, 10)
  })

  it('a gist URL whose owner name starts like a key prefix is fetched (a user name and a hex id are no key)', async () => {
    const before = reached.length
    const path = '/aidan/8e8fa57c7ee1350e3491ab12cd34ef56'
    const fwd = await rawHttp(proxy.port, {path: `${origin()}${path}`})
    assert.deepEqual([fwd.status, fwd.headers['x-pipelock-block-reason']], [200, undefined])
    const fetched = await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(`${origin()}${path}`)}`})
    assert.deepEqual([fetched.status, fetched.headers['x-pipelock-block-reason']], [200, undefined])
    assert.equal(reached.length, before + 2)
  })

  it('the same requests carrying a key spaced out or cut into values are refused', async () => {
    const before = reached.length
    assert.deepEqual(await post('/v1/chat', chat(`draw it on the canvas element renders ${SPACED}`)), {status: 403, reason: 'dlp_match'})
    assert.deepEqual(await post('/v1/items', JSON.stringify({type: 'canvas', a: KEY.slice(0, 8), b: KEY.slice(8)})), {status: 403, reason: 'dlp_match'})
    for (const q of [`q=the+canvas+element+${SPACED.replaceAll(' ', '+')}`, `a=${KEY.slice(0, 8)}&b=${KEY.slice(8)}`]) {
      const fwd = await rawHttp(proxy.port, {path: `${origin()}/search?${q}`})
      assert.deepEqual([fwd.status, fwd.headers['x-pipelock-block-reason']], [403, 'dlp_match'], `forward ?${q}`)
    }
    assert.equal(reached.length, before, 'the upstream got none of them')
  })
})
