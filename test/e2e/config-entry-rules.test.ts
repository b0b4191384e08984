/**
 * Host-list and header-name entries that could never match, through the built CLI: `pipelock
 * check` and `pipelock run` refuse the same file with the same line (they share config loading),
 * naming the entry and why; the broad entries transports §2.6 asks to warn about are printed as
 * warnings and the check passes.
 */
import assert from 'node:assert/strict'
import {rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {tempDir} from './proxy-harness.js'

const dir = tempDir('pipelock-entry-rules-')

function write(name: string, text: string): string {
  const file = path.join(dir, name)
  writeFileSync(file, text)
  return file
}

const CASES: Array<[string, string, string]> = [
  [
    'passthrough.yaml',
    'tls_interception:\n  passthrough_domains:\n    - registry.npmjs.org\n    - https://pypi.org\n',
    ':4: invalid config: tls_interception.passthrough_domains[1]: "https://pypi.org" is a URL; use a bare hostname',
  ],
  [
    'ws-hosts.yaml',
    'forward_proxy:\n  redirect_websocket_hosts: ["gateway.discord.gg:443"]\n',
    ':2: invalid config: forward_proxy.redirect_websocket_hosts[0]: "gateway.discord.gg:443" contains a port; use a bare hostname',
  ],
  [
    'sensitive.yaml',
    'request_body_scanning:\n  sensitive_headers:\n    - Authorization\n    - "X-Api-Key: sk-test-not-echoed"\n',
    ':4: invalid config: request_body_scanning.sensitive_headers[1]: "X-Api-Key: …" contains ":"; list the header name alone ("X-Api-Key")',
  ],
  [
    'ignore.yaml',
    'request_body_scanning:\n  ignore_headers: ["Accept Encoding"]\n',
    ':2: invalid config: request_body_scanning.ignore_headers[0]: "Accept Encoding" is not a header name: " " is not allowed (RFC 9110 token characters only)',
  ],
]

describe('config entries that match nothing', {timeout: 120_000}, () => {
  after(() => rmSync(dir, {recursive: true, force: true}))

  for (const [name, text, detail] of CASES) {
    it(`pipelock check and pipelock run refuse ${name} with the entry named`, () => {
      const file = write(name, text)
      const check = runCli(['check', '--config', file])
      assert.deepEqual([check.status, check.stdout, check.stderr], [1, '', `Config validation FAILED: ${file}${detail} [CONFIG_INVALID]\n`])
      assert.ok(!check.stderr.includes('sk-test-not-echoed'))
      // The same line from run, which exits 2 as every config error does (docs/errors.md).
      const run = runCli(['run', '--config', file, '--listen', '127.0.0.1:0'])
      assert.deepEqual([run.status, run.stdout, run.stderr], [2, '', `${file}${detail} [CONFIG_INVALID]\n`])
    })
  }

  it('pipelock check warns about "*" and "*.tld" in passthrough_domains and passes', () => {
    const file = write('broad.yaml', 'tls_interception:\n  passthrough_domains: ["*", "*.com", "registry.npmjs.org"]\n')
    const check = runCli(['check', '--config', file])
    assert.equal(check.status, 0, check.stderr)
    assert.equal(check.stderr, [
      'WARNING: tls_interception.passthrough_domains[0]: bare "*" matches no host: only a leading "*." is a wildcard',
      'WARNING: tls_interception.passthrough_domains[1]: "*.com" wildcards a whole top-level domain: every .com host matches',
      '',
    ].join('\n'))
    assert.match(check.stdout, /^Config validation: OK\n/)
  })
})
