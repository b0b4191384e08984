/**
 * The config schemas are built on demand and held weakly (issue 12): a long-lived process must
 * not keep ≈ 1 MiB of schema objects after resolving its config, and a resolve after they were
 * collected must validate exactly as before.
 */
import assert from 'node:assert/strict'
import {setImmediate as tick} from 'node:timers/promises'
import {it} from 'node:test'
import v8 from 'node:v8'
import vm from 'node:vm'
import {ConfigFieldError, configSchemas, type ConfigSchemas, resolveConfig, topLevelKeys} from '../../../src/plugins/config/index.js'

v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc') as () => void

/** A file value's resolve outcome: the config, or the error's path and message. */
function outcome(file: unknown): unknown {
  try {
    return resolveConfig(file, {env: {}}).config
  } catch (e) {
    assert.ok(e instanceof ConfigFieldError, String(e))
    return {path: e.path, message: e.message}
  }
}

const FILES: unknown[] = [
  {},
  {mode: 'strict', dlp: {patterns: [{name: 'x', regex: 'abc'}]}},
  {nope: 1},
  {fetch_proxy: {monitoring: {max_url_length: 'long'}}},
  {mcp_tool_policy: {rules: [{name: 'r', tool_pattern: 't', extra: true}]}},
]

it('calls close together share one build; nothing else keeps it once unused', async () => {
  let first: ConfigSchemas | undefined = configSchemas()
  assert.equal(configSchemas(), first)
  assert.equal(topLevelKeys().length, Object.keys(first.config.shape).length)
  const before = FILES.map(outcome)
  const ref = new WeakRef(first)
  // Drop every strong reference this test holds, let the job end (WeakRef targets live until then).
  first = undefined
  await tick()
  gc()
  assert.equal(ref.deref(), undefined, 'the schemas were collected: no module keeps them')
  // Rebuilt on the next use, with the same results and errors as the first build gave.
  const again = configSchemas()
  assert.notEqual(again, undefined)
  assert.deepStrictEqual(FILES.map(outcome), before)
  assert.deepEqual(topLevelKeys(), Object.keys(again.config.shape))
})
