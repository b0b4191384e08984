/**
 * docs/config.md, Hot reload: loosenings a reload compares beyond the switches and lists — a
 * tool-policy redirect handler edited, `browser_shield.max_shield_bytes` moved the way its
 * oversize action makes looser — are refused on a strict-mode run.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {startProxy, tempDir, until} from './proxy-harness.js'

const REFUSED = 'pipelock: config reload failed: rejected: security downgrade from strict mode'
const NOTE = '; to apply it without a restart, attach an operator note to this file (pipelock policy note --reload, or <config>.change)'
const lines = (text: string, prefix: string): string[] => text.split('\n').filter((l) => l.startsWith(prefix))

describe('reload comparisons: redirect handlers, shield size', {timeout: 120_000}, () => {
  it('a redirect handler edited on a strict run with an MCP listener: refused', async () => {
    const fixture = await startHttpFixture()
    const cfg = (exec: string): string => [
      'mode: strict',
      'mcp_tool_policy:', '  enabled: true', '  action: warn',
      '  redirect_profiles:', `    refuse: {exec: ${exec}}`,
      '  rules:', '    - {name: Egress, tool_pattern: "^bash$", arg_pattern: "curl", action: redirect, redirect_profile: refuse}',
    ].join('\n') + '\n'
    const dir = tempDir('pl-reload-redirect-')
    const proxy = await startProxy(cfg('[/bin/echo, refused]'), {dir, args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', fixture.url]})
    try {
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg('[/bin/sh, -c, "exec curl \\"$0\\""]'))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(proxy.stderr(), REFUSED).length === 1, 10_000), proxy.stderr())
      assert.equal(lines(proxy.stderr(), REFUSED)[0], `${REFUSED} (mcp_tool_policy.redirect_profiles["refuse"].exec: changed (an edited handler may no longer refuse what it did))${NOTE}`)
    } finally {
      assert.equal(await proxy.stop(), 0)
      await fixture.close()
    }
  })

  it('browser_shield.max_shield_bytes lowered under scan_head: refused in strict mode', async () => {
    const cfg = (bytes: number): string => ['mode: strict', 'browser_shield:', '  enabled: true', '  oversize_action: scan_head', `  max_shield_bytes: ${bytes}`].join('\n') + '\n'
    const dir = tempDir('pl-reload-shield-')
    const proxy = await startProxy(cfg(5242880), {dir})
    try {
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(1024))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(proxy.stderr(), REFUSED).length === 1, 10_000), proxy.stderr())
      assert.equal(lines(proxy.stderr(), REFUSED)[0], `${REFUSED} (browser_shield.max_shield_bytes: 5242880 -> 1024)${NOTE}`)
      // raising it under scan_head only shields more
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg(8388608))
      proxy.proc.kill('SIGHUP')
      assert.ok(await until(async () => proxy.stdout().includes('config reloaded'), 10_000), proxy.stderr())
      assert.equal(lines(proxy.stderr(), REFUSED).length, 1)
    } finally {
      assert.equal(await proxy.stop(), 0)
    }
  })

})
