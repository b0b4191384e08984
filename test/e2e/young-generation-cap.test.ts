/**
 * Issue 16: once `pipelock run` listens, V8's young generation grows again under traffic, up to a
 * cap by what the proxy runs (src/cli/v8-flags.ts): 2 MiB semi-spaces while it intercepts TLS, so
 * a scavenge in a burst of intercepted tunnels copies less; V8's own 16 MiB without interception
 * (issue 36: fewer scavenges of the requests in flight). The heap space sizes come from the
 * start-up test's preload (test/fixtures/startup/module-trace.mjs, on SIGUSR2); the assertions
 * are about sizes, never time.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {describe, it} from 'node:test'
import {caPaths, generateCa, writeCaFiles} from '../../src/plugins/tls/index.js'
import {repoPath} from '../helpers/vectors.js'
import {baseConfig, startHttpUpstream, startProxy, tempDir, until} from './proxy-harness.js'

const PRELOAD = repoPath('test', 'fixtures', 'startup', 'module-trace.mjs')

const MiB = 1024 * 1024

/** The new space (both semi-spaces) after 1,500 forward-proxy requests through a proxy run with `extraConfig`. */
async function newSpaceAfterTraffic(extraConfig: string): Promise<number> {
  const up = await startHttpUpstream()
  const file = path.join(tempDir('pipelock-trace-'), 'modules.txt')
  const proxy = await startProxy(baseConfig('ssrf:\n  ip_allowlist: ["127.0.0.0/8"]\nfetch_proxy:\n  monitoring:\n    max_requests_per_minute: 10000000\n' + extraConfig), {
    env: {NODE_OPTIONS: `--import=${JSON.stringify(PRELOAD)}`, MODULE_TRACE_FILE: file},
  }).catch(async (e: unknown) => {
    await up.close()
    throw e
  })
  const agent = new http.Agent({keepAlive: true, maxSockets: 8})
  try {
    const get = (): Promise<number> => new Promise((resolve, reject) => {
      http.get({host: '127.0.0.1', port: proxy.port, path: `http://127.0.0.1:${up.port}/page`, agent}, (res) => {
        res.resume()
        res.once('end', () => resolve(res.statusCode ?? 0))
      }).once('error', reject)
    })
    // Enough surviving allocation that V8's own sizing grows the young generation past the lower
    // cap (with NODE_OPTIONS=--max-semi-space-size=16, which turns the cap off, the new space is
    // over 8 MiB after this).
    const statuses = await Promise.all(Array.from({length: 8}, async () => {
      const s: number[] = []
      for (let k = 0; k < 1500 / 8; k++) s.push(await get())
      return s
    }))
    assert.deepEqual([...new Set(statuses.flat())], [200])
    proxy.proc.kill('SIGUSR2')
    assert.ok(await until(async () => existsSync(file + '.heap.json'), 10_000), 'heap statistics written')
    return (JSON.parse(readFileSync(file + '.heap.json', 'utf8')) as Record<string, number>).new_space!
  } finally {
    agent.destroy()
    assert.equal(await proxy.stop(), 0)
    await up.close()
  }
}

describe('run caps the young generation under traffic (issues 16, 36)', {timeout: 180_000}, () => {
  it('intercepting TLS: after 1,500 requests the new space has grown, to 2 × 2 MiB at most', async () => {
    const paths = caPaths(path.join(tempDir('pipelock-ca-'), 'ca'))
    writeCaFiles(paths, generateCa('Pipelock', 24 * 3_600_000, Date.now()), false)
    const newSpace = await newSpaceAfterTraffic(['tls_interception:', '  enabled: true', `  ca_cert: ${paths.cert}`, `  ca_key: ${paths.key}`].join('\n') + '\n')
    assert.ok(newSpace > 2 * MiB && newSpace <= 4 * MiB, `new_space ${newSpace}`)
  })

  it('without interception: the same traffic grows it past that, to V8\'s own 2 × 16 MiB at most', async () => {
    const newSpace = await newSpaceAfterTraffic('')
    assert.ok(newSpace > 4 * MiB && newSpace <= 32 * MiB, `new_space ${newSpace}`)
  })
})
