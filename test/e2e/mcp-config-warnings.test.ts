import {test} from 'node:test'
import assert from 'node:assert/strict'
import {chmodSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {tempDir} from './proxy-harness.js'

// `pipelock mcp proxy` prints the config's load warnings at start, as `pipelock run` does: a value
// read as another (tool_chain_detection.window_size -4 → 20) is named, never taken without a
// word; a warning about a section only `pipelock run` reads (fetch_proxy) is left out.

test('mcp proxy names the warnings of the sections it uses, and only those', () => {
  const dir = tempDir('pipelock-mcp-warnings-')
  const file = path.join(dir, 'p.yaml')
  writeFileSync(file, [
    'tool_chain_detection:', '  window_size: -4',
    'fetch_proxy:', '  timeout_seconds: -2',
  ].join('\n') + '\n')
  const r = runCli(['mcp', 'proxy', '--config', file, '--', process.execPath, '-e', 'process.exit(0)'])
  assert.match(r.stderr, /^WARNING: tool_chain_detection\.window_size: -4 is read as 20 \(a value ≤ 0 takes the default\)$/m)
  assert.doesNotMatch(r.stderr, /fetch_proxy\.timeout_seconds/)
  // pipelock check names both.
  const c = runCli(['check', '--config', file])
  assert.equal(c.status, 0, c.stderr)
  assert.match(c.stderr, /^WARNING: fetch_proxy\.timeout_seconds: -2 is read as 30/m)
  assert.match(c.stderr, /^WARNING: tool_chain_detection\.window_size: -4 is read as 20/m)
})

test('mcp proxy names a config file others can read that holds a credential in clear, as run and check do', () => {
  const dir = tempDir('pipelock-mcp-warnings-')
  const file = path.join(dir, 'p.yaml')
  writeFileSync(file, 'emit:\n  webhook:\n    url: "https://hooks.example/pipelock"\n    auth_token: "hook-secret-value"\n', {mode: 0o640})
  chmodSync(file, 0o640)
  const line = `WARNING: config file ${file} holds emit.webhook.auth_token in clear and is readable by group or others (mode 0640): chmod 600 ${file}`
  const r = runCli(['mcp', 'proxy', '--config', file, '--', process.execPath, '-e', 'process.exit(0)'])
  assert.ok(r.stderr.split('\n').includes(line), r.stderr)
  assert.ok(runCli(['check', '--config', file]).stderr.split('\n').includes(line))
  chmodSync(file, 0o600)
  assert.ok(!runCli(['mcp', 'proxy', '--config', file, '--', process.execPath, '-e', 'process.exit(0)']).stderr.includes('in clear'))
})
