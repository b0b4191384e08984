/**
 * The built-in defaults resolved without zod (issue 12, RSS per MCP wrap): `resolveDefaults` must
 * give exactly what `resolveConfig({})` gives (the zod path, kept as the oracle): the same values,
 * the same keys in the same order at every depth (the schema parse orders keys), the same
 * warnings, the same policy hash, and a copy that shares nothing with the merge base.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {configHash, loadConfig, resolveConfig} from '../../../src/plugins/config/index.js'
import {defaultConfig} from '../../../src/plugins/config/defaults.js'
import {loadDefaults} from '../../../src/plugins/config/load-on-demand.js'
import {resolveDefaults} from '../../../src/plugins/config/resolve-defaults.js'

/** Every object's own keys in order, and every value, as one list of [path, keys | value]. */
function shape(v: unknown, at = '$', out: unknown[] = []): unknown[] {
  if (Array.isArray(v)) {
    out.push([at, 'array', v.length])
    v.forEach((x, i) => shape(x, `${at}[${i}]`, out))
  } else if (v !== null && typeof v === 'object') {
    assert.equal(Object.getPrototypeOf(v), Object.prototype, `${at} is a plain object`)
    out.push([at, Object.keys(v)])
    for (const [k, x] of Object.entries(v)) shape(x, `${at}.${k}`, out)
  } else {
    out.push([at, typeof v, v])
  }
  return out
}

const ENVS: Record<string, string | undefined>[] = [{}, {PIPELOCK_KILLSWITCH_API_TOKEN: 'tok'}, {HOME: '/nonexistent', PIPELOCK_KILLSWITCH_API_TOKEN: ''}, process.env]

describe('resolveDefaults', () => {
  for (const [i, env] of ENVS.entries()) {
    for (const baseDir of [undefined, '/srv/pipelock']) {
      it(`equals resolveConfig({}) (env ${i}, baseDir ${baseDir ?? 'none'})`, () => {
        const oracle = resolveConfig({}, {env, baseDir})
        const got = resolveDefaults({env, baseDir})
        assert.deepStrictEqual(got.config, oracle.config)
        assert.deepStrictEqual(shape(got.config), shape(oracle.config))
        assert.deepStrictEqual(got.warnings, oracle.warnings)
        assert.equal(JSON.stringify(got.config), JSON.stringify(oracle.config))
        assert.equal(configHash(got.config), configHash(oracle.config))
      })
    }
  }

  it('the loaded defaults equal loadConfig() without a file and the zod path', () => {
    const env = {PIPELOCK_KILLSWITCH_API_TOKEN: 'tok'}
    const viaLoad = loadConfig(undefined, {env})
    const viaDefaults = loadDefaults({env})
    const oracle = resolveConfig({}, {env})
    assert.deepStrictEqual(shape(viaDefaults.config), shape(oracle.config))
    assert.deepStrictEqual(viaLoad, viaDefaults)
    assert.equal(viaDefaults.hash, configHash(oracle.config))
    assert.equal(viaDefaults.path, undefined)
  })

  it('shares no object or array with the merge base or another call (the parse copied them)', () => {
    const a = resolveDefaults({env: {}})
    const b = resolveDefaults({env: {}})
    const base = defaultConfig()
    const seen = new Set<object>()
    const collect = (v: unknown): void => {
      if (v !== null && typeof v === 'object') {
        seen.add(v)
        for (const x of Object.values(v)) collect(x)
      }
    }
    collect(a.config)
    const shared: string[] = []
    const check = (v: unknown, at: string): void => {
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) shared.push(at)
        for (const [k, x] of Object.entries(v)) check(x, `${at}.${k}`)
      }
    }
    check(b.config, 'b')
    check(base, 'base')
    assert.deepEqual(shared, [])
    // Mutating one result leaves the next resolve as it was.
    a.config.dlp.patterns.length = 0
    a.config.api_allowlist.push('evil.example')
    assert.deepStrictEqual(resolveDefaults({env: {}}).config, resolveConfig({}, {env: {}}).config)
  })
})
