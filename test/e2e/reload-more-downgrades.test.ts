/**
 * docs/config.md, Hot reload: loosenings a reload compares beyond the switches and lists — a bound
 * default identity renamed to a looser profile, a tool-policy redirect handler edited,
 * `browser_shield.max_shield_bytes` moved the way its oversize action makes looser — are refused
 * on a strict-mode run; and an MCP section loosened on a run that does not read it applies, with
 * a warning that says so.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {freePort, rawHttp, startHttpUpstream, startProxy, tempDir, until} from './proxy-harness.js'

const REFUSED = 'pipelock: config reload failed: rejected: security downgrade from strict mode'
const NOTE = '; to apply it without a restart, attach an operator note to this file (pipelock policy note --reload, or <config>.change)'
const lines = (text: string, prefix: string): string[] => text.split('\n').filter((l) => l.startsWith(prefix))

describe('reload comparisons: default identity, redirect handlers, shield size, MCP sections a run does not read', {timeout: 120_000}, () => {
  it('a bound default identity renamed to a looser profile: refused in strict mode, applied with a warning in balanced', async () => {
    const up = await startHttpUpstream()
    const cfg = (mode: string, identity: string): string => [
      `mode: ${mode}`, 'api_allowlist: ["127.0.0.1"]',
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      `default_agent_identity: ${identity}`, 'bind_default_agent_identity: true',
      'agents:',
      '  shop:', '    dlp:', '      patterns:', '        - {name: Shop Key, regex: "shopkey-[0-9]{6}", severity: critical}',
      '  loose:', '    mode: balanced',
    ].join('\n') + '\n'
    const status = async (port: number): Promise<number> => (await rawHttp(port, {path: `http://127.0.0.1:${up.port}/kib?k=shopkey-123456`})).status
    const dir = tempDir('pl-reload-ident-')
    const strict = await startProxy(cfg('strict', 'shop'), {dir})
    try {
      assert.equal(await status(strict.port), 403, 'the bound profile\'s own pattern blocks')
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg('strict', 'loose'))
      strict.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(strict.stderr(), REFUSED).length === 1, 10_000), strict.stderr())
      assert.equal(lines(strict.stderr(), REFUSED)[0], `${REFUSED} (default_agent_identity: "shop" -> "loose" (the clients it binds now get agents.loose instead of agents.shop); default_agent_identity: mode: strict -> balanced; default_agent_identity: dlp.patterns: 49 -> 48 patterns (removed "Shop Key"))${NOTE}`)
      assert.equal(await status(strict.port), 403, 'the clients keep the shop profile')
    } finally {
      assert.equal(await strict.stop(), 0)
    }
    const dir2 = tempDir('pl-reload-ident-')
    const balanced = await startProxy(cfg('balanced', 'shop'), {dir: dir2})
    try {
      writeFileSync(path.join(dir2, 'pipelock.yaml'), cfg('balanced', 'loose'))
      balanced.proc.kill('SIGHUP')
      const warning = 'WARNING: config reload: security downgrade: default_agent_identity: "shop" -> "loose" (the clients it binds now get agents.loose instead of agents.shop)'
      assert.ok(await until(async () => balanced.stderr().split('\n').includes(warning), 10_000), balanced.stderr())
      assert.ok(await until(async () => (await status(balanced.port)) === 200, 5_000), 'the rename applies in balanced mode')
      // back to the stricter profile: no downgrade
      writeFileSync(path.join(dir2, 'pipelock.yaml'), cfg('balanced', 'shop'))
      balanced.proc.kill('SIGHUP')
      assert.ok(await until(async () => (await status(balanced.port)) === 403, 5_000), balanced.stderr())
      assert.deepEqual(lines(balanced.stderr(), 'WARNING: config reload: security downgrade'), [warning, 'WARNING: config reload: security downgrade: default_agent_identity: dlp.patterns: 49 -> 48 patterns (removed "Shop Key")'])
    } finally {
      assert.equal(await balanced.stop(), 0)
      await up.close()
    }
  })

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

  it('an MCP section loosened on a strict run: applied with a warning where no transport reads it, refused where one does', async () => {
    const cfg = (action: string, extra: string[] = []): string => [
      'mode: strict',
      'mcp_tool_scanning:', '  enabled: true', `  action: ${action}`,
      'mcp_tool_policy:', '  enabled: true', `  action: ${action}`, '  rules:', '    - {name: No curl, tool_pattern: "^bash$", arg_pattern: "curl"}',
      ...extra,
    ].join('\n') + '\n'
    // No MCP listener, no scan API: neither section is read.
    const dir = tempDir('pl-reload-mcp-')
    const plain = await startProxy(cfg('block'), {dir})
    try {
      assert.deepEqual(lines(plain.stderr(), 'pipelock: note: '), ['pipelock: note: mcp_tool_scanning, mcp_tool_policy apply to MCP transports only; they have no effect on this HTTP proxy'])
      writeFileSync(path.join(dir, 'pipelock.yaml'), cfg('warn'))
      plain.proc.kill('SIGHUP')
      assert.ok(await until(async () => plain.stdout().includes('config reloaded'), 10_000), plain.stderr())
      assert.deepEqual(lines(plain.stderr(), 'WARNING: config reload: security downgrade'), [
        'WARNING: config reload: security downgrade: mcp_tool_scanning.action: block -> warn (does not apply to this run: it has no MCP listener (--mcp-listen) and no scan API)',
        'WARNING: config reload: security downgrade: mcp_tool_policy.action: block -> warn (does not apply to this run: it has no MCP listener (--mcp-listen) and no scan API)',
      ])
      assert.equal(lines(plain.stderr(), REFUSED).length, 0)
    } finally {
      assert.equal(await plain.stop(), 0)
    }
    // A scan API: its tool_call reads the tool policy, not tool scanning.
    const scan = ['scan_api:', `  listen: 127.0.0.1:${await freePort()}`, '  auth:', '    bearer_tokens: ["reload-test-token-0123456789"]']
    const dir2 = tempDir('pl-reload-mcp-')
    const api = await startProxy(cfg('block', scan), {dir: dir2})
    try {
      // The start-up note does not call the section the scan API reads inert.
      assert.deepEqual(lines(api.stderr(), 'pipelock: note: '), [
        'pipelock: note: mcp_tool_scanning applies to MCP transports only; it has no effect on this HTTP proxy',
        "pipelock: note: mcp_tool_policy applies on this run to the scan API's tool_call scans only, not to the HTTP proxy's traffic",
      ])
      writeFileSync(path.join(dir2, 'pipelock.yaml'), cfg('warn', scan))
      api.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(api.stderr(), REFUSED).length === 1, 10_000), api.stderr())
      assert.equal(lines(api.stderr(), REFUSED)[0], `${REFUSED} (mcp_tool_policy.action: block -> warn)${NOTE}`)
      // tool scanning alone: not read by the scan API, so applied with the warning
      writeFileSync(path.join(dir2, 'pipelock.yaml'), cfg('block', scan).replace('  enabled: true\n  action: block\nmcp_tool_policy', '  enabled: true\n  action: warn\nmcp_tool_policy'))
      api.proc.kill('SIGHUP')
      assert.ok(await until(async () => api.stdout().includes('config reloaded'), 10_000), api.stderr())
      assert.deepEqual(lines(api.stderr(), 'WARNING: config reload: security downgrade'), [
        'WARNING: config reload: security downgrade: mcp_tool_scanning.action: block -> warn (does not apply to this run: it has no MCP listener (--mcp-listen), and its scan API reads only mcp_input_scanning and mcp_tool_policy)',
      ])
    } finally {
      assert.equal(await api.stop(), 0)
    }
    // An MCP listener reads both: refused.
    const fixture = await startHttpFixture()
    const dir3 = tempDir('pl-reload-mcp-')
    const listener = await startProxy(cfg('block'), {dir: dir3, args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', fixture.url]})
    try {
      writeFileSync(path.join(dir3, 'pipelock.yaml'), cfg('warn'))
      listener.proc.kill('SIGHUP')
      assert.ok(await until(async () => lines(listener.stderr(), REFUSED).length === 1, 10_000), listener.stderr())
      assert.equal(lines(listener.stderr(), REFUSED)[0], `${REFUSED} (mcp_tool_scanning.action: block -> warn; mcp_tool_policy.action: block -> warn)${NOTE}`)
    } finally {
      assert.equal(await listener.stop(), 0)
      await fixture.close()
    }
  })
})
