import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse} from 'yaml'
import {runCli} from '../helpers/cli.js'

test('canary generate: YAML with the given value, exact lines', () => {
  const r = runCli(['canary', 'generate', '--name', 'stripe_canary', '--value', 'sk_live_canary_0000000000', '--env-var', 'STRIPE_API_KEY'])
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout, [
    'canary_tokens:', '  enabled: true', '  tokens:', '    - name: "stripe_canary"', '      value: "sk_live_canary_0000000000"', '      env_var: "STRIPE_API_KEY"', '',
  ].join('\n'))
})

test('canary generate: the default value is AWS-shaped and fresh; the output loads as a config', () => {
  const a = runCli(['canary', 'generate'])
  const b = runCli(['canary', 'generate'])
  assert.equal(a.status, 0, a.stderr)
  const value = (parse(a.stdout) as {canary_tokens: {tokens: Array<{value: string; env_var: string; name: string}>}}).canary_tokens.tokens[0]!
  assert.match(value.value, /^AKIA[A-Z2-7]{16}$/)
  assert.equal(value.name, 'aws_canary')
  assert.equal(value.env_var, 'AWS_CANARY_KEY')
  assert.notEqual(a.stdout, b.stdout)
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-canary-'))
  const file = path.join(dir, 'pipelock.yaml')
  writeFileSync(file, a.stdout)
  const check = runCli(['check', '--config', file])
  assert.equal(check.status, 0, check.stderr + check.stdout)
})

test('canary generate --json: the same entry, snake_case (loadable), no env_var when empty', () => {
  const r = runCli(['canary', 'generate', '--json', '--value', 'canary-value-123', '--env-var', ''])
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), {canary_tokens: {enabled: true, tokens: [{name: 'aws_canary', value: 'canary-value-123'}]}})
})

test('canary generate: bad input refuses with one line', () => {
  assert.equal(runCli(['canary', 'generate', '--value', 'short']).stderr, '--value must be at least 8 characters [USAGE]\n')
  assert.equal(runCli(['canary', 'generate', '--env-var', 'NOT-A-NAME']).stderr, '--env-var "NOT-A-NAME" is invalid: want a shell variable name [USAGE]\n')
})
