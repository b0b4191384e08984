import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isPipelockError} from '../../../src/plugins/errors/index.js'
import {loadFeature, requireLoaded} from '../../../src/plugins/proxy/feature-load.js'

describe('loading an enabled feature on demand (issue 18)', () => {
  it('returns the loaded module', async () => {
    const m = await loadFeature('websocket_proxy', () => import('../../../src/plugins/proxy/websocket/handshake.js'))
    assert.equal(typeof m.WebSocketProxy, 'function')
  })

  it('a failed load refuses start-up with FEATURE_LOAD_FAILED naming the feature', async () => {
    await assert.rejects(loadFeature('websocket_proxy', () => import('../../../src/plugins/proxy/websocket/no-such-module.js' as string)), (err: unknown) => {
      assert.ok(isPipelockError(err))
      assert.equal(err.code, 'FEATURE_LOAD_FAILED')
      assert.match(err.message, /^websocket_proxy is enabled but its code could not be loaded \(.*\); refusing to start$/)
      return true
    })
  })

  it('an enabled feature whose class was not passed in refuses, never runs without it', () => {
    assert.equal(requireLoaded('websocket_proxy', Map), Map)
    assert.throws(() => requireLoaded('websocket_proxy', undefined), (err: unknown) => {
      assert.ok(isPipelockError(err))
      assert.equal(err.code, 'FEATURE_LOAD_FAILED')
      assert.equal(err.message, 'websocket_proxy is enabled but its code was not loaded; refusing to start')
      return true
    })
  })
})
