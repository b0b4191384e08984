import {test} from 'node:test'
import assert from 'node:assert/strict'
import {canaryLaunchLines} from '../../../src/plugins/config/index.js'

const entries = [
  {name: 'aws', envVar: 'AWS_ACCESS_KEY_ID', value: 'AKIAxxxxxxxxxxxxxxxx'},
  {name: 'trap', envVar: 'HTTP_PROXY', value: 'canary-proxy-value'},
  {name: 'mine', envVar: 'DB_PASS', value: 'canary-db-value-1'},
]

test('canaryLaunchLines: planted names; a canary not planted is said, not dropped; values never shown', () => {
  // DB_PASS was passed explicitly with --env (the operator's value wins): no warning for it.
  const lines = canaryLaunchLines(entries, ['AWS_ACCESS_KEY_ID'], ['DB_PASS'])
  assert.deepEqual(lines, [
    'pipelock: canary token(s) injected as AWS_ACCESS_KEY_ID',
    'pipelock: WARNING: canary "trap" not planted: HTTP_PROXY is a variable pipelock sets or refuses in the agent\'s environment; choose another env_var',
  ])
  for (const e of entries) assert.ok(!lines.join('\n').includes(e.value))
})

test('canaryLaunchLines: with an external proxy, says that only its own config can catch the canaries', () => {
  assert.deepEqual(canaryLaunchLines(entries.slice(0, 1), ['AWS_ACCESS_KEY_ID'], [], '127.0.0.1:8888').at(-1), 'pipelock: WARNING: the agent\'s traffic goes through the proxy at 127.0.0.1:8888: it blocks the planted canaries only if its own config lists the same canary_tokens')
  assert.deepEqual(canaryLaunchLines([], [], [], '127.0.0.1:8888'), [])
})
