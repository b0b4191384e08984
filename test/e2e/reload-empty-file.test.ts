/**
 * docs/config.md, Hot reload: a running proxy refuses a reload of a config file that sets nothing
 * (truncated, comments only, `{}`): the policy in force stays, stderr says to write the file
 * atomically, and /health reports the drift. A valid file, even a partial one, applies.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, it} from 'node:test'
import {rawHttp, startHttpUpstream, startProxy, tempDir, until} from './proxy-harness.js'

describe('reload of a config file that sets nothing', {timeout: 60_000}, () => {
  it('is refused and the running policy stays; a partial but valid file applies', async () => {
    const up = await startHttpUpstream()
    const dir = tempDir('pl-reload-empty-')
    const cfg = path.join(dir, 'pipelock.yaml')
    const full = [
      'forward_proxy:', '  enabled: true',
      'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
      'fetch_proxy:', '  monitoring:', '    max_requests_per_minute: 100000',
      'dlp:', '  patterns:', '    - {name: Acme Key, regex: "acmekey-[0-9]{8}", severity: critical}',
    ].join('\n') + '\n'
    const proxy = await startProxy(full, {dir})
    const secret = async (): Promise<number> => (await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib?k=acmekey-12345678`})).status
    const line = `pipelock: config reload failed: ${cfg}: the file sets nothing (empty, comments only, null or {}): refused, the running config stays; write the file atomically (a temp file, then rename it over this one)`
    const refusals = (): number => proxy.stderr().split('\n').filter((l) => l === line).length
    try {
      assert.equal(await secret(), 403)
      let n = 0
      for (const text of ['', '# the deploy tool is writing this file\n', '{}\n']) {
        writeFileSync(cfg, text)
        n++
        assert.ok(await until(async () => refusals() === n, 10_000), `${JSON.stringify(text)}:\n${proxy.stderr()}`)
        assert.equal(await secret(), 403, 'the custom pattern and the forward proxy stay in force')
      }
      assert.ok(!proxy.stderr().includes('the built-in defaults are used'), proxy.stderr())
      const health = JSON.parse((await rawHttp(proxy.port, {path: '/health'})).body) as {config_in_sync: boolean; config_drift: {reason: string}}
      assert.equal(health.config_in_sync, false)
      assert.match(health.config_drift.reason, /the file sets nothing/)

      // The first lines of the file, valid on their own: a config, applied as written (the DLP
      // pattern it does not reach yet is gone, with a downgrade warning).
      writeFileSync(cfg, full.split('\n').slice(0, 7).join('\n') + '\n')
      assert.ok(await until(async () => proxy.stderr().includes('WARNING: config reload: security downgrade: dlp.patterns: 49 -> 48 patterns (removed "Acme Key")'), 10_000), proxy.stderr())
      assert.ok(await until(async () => (await secret()) === 200, 5000))
    } finally {
      assert.equal(await proxy.stop(), 0)
      await up.close()
    }
  })
})
