/**
 * Every shipped preset that this version can run starts exactly as `generate config` writes it
 * (runtime §20.5, issue 15 "presets that start"), answers `/health`, and judges a real request
 * through its scanners (a loopback upstream is refused: by SSRF, as no preset allows private
 * addresses, or by strict mode's allowlist first). With the WebSocket proxy built, `hostile-model` starts too.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {rawHttp, startHttpUpstream, startProxy, until} from './proxy-harness.js'

function generated(preset: string): {yaml: string; stderr: string} {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), 'generate', 'config', '--preset', preset], {encoding: 'utf8', cwd: repoPath()})
  assert.equal(r.status, 0, r.stderr)
  return {yaml: r.stdout, stderr: r.stderr}
}

describe('presets start as generated', {timeout: 180_000}, () => {
  for (const preset of ['balanced', 'strict', 'audit', 'claude-code', 'cursor', 'generic-agent', 'hostile-model']) {
    it(`${preset}: generate config, pipelock run, a request`, async () => {
      const g = generated(preset)
      assert.equal(g.stderr, '', 'no warning for a preset this build runs')
      const up = await startHttpUpstream()
      const proxy = await startProxy(g.yaml)
      try {
        if (preset === 'strict') {
          assert.match(proxy.stderr(), /pipelock: note: mcp_input_scanning, mcp_tool_scanning, mcp_tool_policy, tool_chain_detection apply to MCP transports only; they have no effect on this HTTP proxy\n/)
        }
        if (preset === 'hostile-model') {
          assert.match(proxy.stderr(), /pipelock: note: mcp_input_scanning, mcp_tool_scanning, mcp_tool_policy, mcp_session_binding, tool_chain_detection apply to MCP transports only; they have no effect on this HTTP proxy\n/)
        }
        const health = await rawHttp(proxy.port, {path: '/health'})
        assert.equal(health.status, 200)
        const r = await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/kib`})
        if (preset === 'audit') {
          // enforce: false: the URL-scan finding is only logged; the SSRF-safe dialer still refuses the dial (502).
          assert.equal(r.status, 502, r.body)
          assert.ok(await until(async () => /"event":"anomaly","message":"would block \(not enforced\)".*"scanner":"ssrf"/.test(proxy.stdout())), proxy.stdout())
        } else if (preset === 'strict' || preset === 'hostile-model') {
          // strict mode: only allowlisted API hosts pass; the miss has its own reason (the reference says parse_error).
          assert.equal(r.status, 403, r.body)
          assert.equal(r.headers['x-pipelock-block-reason-layer'], 'allowlist')
          assert.equal(r.headers['x-pipelock-block-reason'], 'domain_not_allowlisted')
          assert.equal(r.headers['x-pipelock-block-reason-retry'], 'policy')
        } else {
          assert.equal(r.status, 403, r.body)
          assert.equal(r.headers['x-pipelock-block-reason'], 'ssrf_private_ip')
        }
      } finally {
        assert.equal(await proxy.stop(), 0)
        await up.close()
      }
    })
  }
})
