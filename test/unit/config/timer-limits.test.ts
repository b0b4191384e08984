import {test} from 'node:test'
import assert from 'node:assert/strict'
import {TIMER_DURATION_FIELDS, TIMER_MAX_SECONDS, TIMER_SECONDS_FIELDS} from '../../../src/plugins/config/timer-limits.js'
import {load} from './helpers.js'

// Node's timers take at most 2^31-1 ms: a longer delay fired after 1 ms (every /fetch a 502, a
// tunnel cut at once, a cleanup busy loop) or threw ERR_OUT_OF_RANGE (the webhook). Every timer
// field is capped at resolution, with a startup warning that names it and the value it runs as.

/** YAML setting `path` (dotted) to `value`. */
function yamlAt(path: readonly string[], value: string): string {
  return path.map((k, i) => `${'  '.repeat(i)}${k}:${i === path.length - 1 ? ` ${value}` : ''}`).join('\n') + '\n'
}

function at(config: unknown, path: readonly string[]): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], config)
}

test('a seconds field above the timer maximum runs as the maximum, named in a warning', () => {
  assert.equal(TIMER_MAX_SECONDS, 2147483)
  for (const path of TIMER_SECONDS_FIELDS) {
    const r = load(yamlAt(path, '99999999999'))
    assert.equal(at(r.config, path), TIMER_MAX_SECONDS, path.join('.'))
    const field = path.join('.')
    assert.deepEqual(r.warnings.filter((w) => w.field === field).map((w) => w.message), ['99999999999 is read as 2147483 (the longest timer Node.js can set, about 24.8 days)'])
  }
})

test('fetch_proxy.timeout_seconds of 30 days is capped; the maximum itself and below are left alone', () => {
  const r = load('fetch_proxy:\n  timeout_seconds: 2592000\n')
  assert.equal(r.config.fetch_proxy.timeout_seconds, 2147483)
  assert.ok(r.config.fetch_proxy.timeout_seconds * 1000 <= 2 ** 31 - 1)
  assert.deepEqual(r.warnings.map((w) => `${w.field}: ${w.message}`), ['fetch_proxy.timeout_seconds: 2592000 is read as 2147483 (the longest timer Node.js can set, about 24.8 days)'])
  const max = load('fetch_proxy:\n  timeout_seconds: 2147483\nsession_profiling:\n  cleanup_interval_seconds: 86400\n')
  assert.equal(max.config.fetch_proxy.timeout_seconds, 2147483)
  assert.equal(max.config.session_profiling.cleanup_interval_seconds, 86400)
  assert.deepEqual(max.warnings, [])
})

test('a scan API timeout duration above the timer maximum is capped, with a warning', () => {
  for (const path of TIMER_DURATION_FIELDS) {
    const r = load(`scan_api:\n  listen: "127.0.0.1:9999"\n  auth:\n    bearer_tokens: ["t0123456789abcdef0123456789abcdef"]\n  timeouts:\n    ${path[2]}: "720h"\n`)
    assert.equal(at(r.config, path), '2147483s')
    assert.ok(r.warnings.some((w) => w.field === path.join('.') && w.message === '"720h" is read as "2147483s" (the longest timer Node.js can set, about 24.8 days)'), JSON.stringify(r.warnings))
  }
  assert.equal(load('scan_api:\n  timeouts:\n    read: "24h"\n').config.scan_api.timeouts.read, '24h')
})
