/**
 * `pipelock sandbox --proxy ADDR` against a real `pipelock run`: the agent starts only when that
 * run keeps its admin API off the port the bridge leads to (kill_switch.api_listen); a run that
 * serves the kill switch and the session API there behind its token alone is refused, and the
 * agent never runs. With api_listen, the agent's request goes out through that run.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {cleanEnv, runCliAsync} from '../helpers/fake-admin-api.js'
import {freePort, startProxy, tempDir, type RunningProxy} from './proxy-harness.js'

const TOKEN = 'an-admin-token-of-some-length'

describe('sandbox --proxy: the run it names must not serve its admin API to the agent', {timeout: 120_000}, () => {
  let dir: string
  let ws: string
  let cfg: string
  let origin: http.Server
  let originPort: number
  const hits: string[] = []
  const running: RunningProxy[] = []

  before(async () => {
    const bw = spawnSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '--', '/bin/true'], {encoding: 'utf8'})
    assert.equal(bw.error, undefined, 'bubblewrap (bwrap) is not installed: node scripts/ensure-test-tools.mjs installs the Debian package bubblewrap')
    dir = tempDir('pipelock-sandbox-target-')
    ws = path.join(dir, 'ws')
    mkdirSync(ws)
    mkdirSync(path.join(dir, 'home'))
    cfg = path.join(dir, 'sandbox.yaml')
    writeFileSync(cfg, 'ssrf:\n  ip_allowlist: ["127.0.0.1/32"]\n')
    origin = http.createServer((req, res) => {
      hits.push(req.url ?? '')
      res.end('origin says hello\n')
    })
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
    originPort = (origin.address() as AddressInfo).port
  })
  after(async () => {
    for (const p of running) await p.stop()
    await new Promise<void>((r) => origin?.close(() => r()))
  })

  const runConfig = (apiListen: string): string =>
    ['forward_proxy:', '  enabled: true', 'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'kill_switch:', `  api_token: ${TOKEN}`, ...(apiListen === '' ? [] : [`  api_listen: ${apiListen}`]), ''].join('\n')
  const sandbox = async (addr: string, agent: string[]) =>
    await runCliAsync(['sandbox', '--config', cfg, '--workspace', ws, '--proxy', addr, '--', ...agent], {env: cleanEnv({HOME: path.join(dir, 'home')})})

  test('a run without kill_switch.api_listen is refused before the agent starts', async () => {
    const p = await startProxy(runConfig(''), {env: cleanEnv()})
    running.push(p)
    const marker = path.join(ws, 'agent-ran')
    const r = await sandbox(p.addr, ['touch', marker])
    assert.equal(r.status, 1, r.stderr)
    assert.equal(
      r.stderr.split('\n').at(-2),
      `--proxy ${p.addr}: that pipelock serves its admin API (kill switch, sessions, policy) on the port the agent would reach (GET /api/v1/killswitch/status answered HTTP 401) [SANDBOX_LAUNCH_FAILED]; ` +
        'hint: give that run kill_switch.api_listen (the admin API on a port of its own, which the sandbox never reaches), or leave out --proxy to run an embedded proxy',
    )
    assert.ok(!existsSync(marker), 'the agent never ran')
  })

  test('a run with kill_switch.api_listen is used: the agent\'s request goes out through it', async () => {
    const p = await startProxy(runConfig(`127.0.0.1:${await freePort()}`), {env: cleanEnv()})
    running.push(p)
    const r = await sandbox(p.addr, ['curl', '-s', `http://127.0.0.1:${originPort}/through-the-run`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'origin says hello\n')
    assert.deepEqual(hits, ['/through-the-run'])
  })
})
