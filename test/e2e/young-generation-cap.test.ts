/**
 * Issue 16: once `pipelock run` listens, V8's young generation grows again under traffic, but only
 * up to 4 MiB semi-spaces (src/cli/v8-flags.ts), so a scavenge in a burst of tunnels
 * copies less — before, V8 grew it to 2 × 16 MiB. The heap space sizes come from the start-up
 * test's preload (test/fixtures/startup/module-trace.mjs, on SIGUSR2); the assertion is about
 * sizes, never time.
 */
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {baseConfig, startHttpUpstream, startProxy, tempDir, until} from './proxy-harness.js'

const PRELOAD = repoPath('test', 'fixtures', 'startup', 'module-trace.mjs')

describe('run caps the young generation under traffic (issue 16)', {timeout: 120_000}, () => {
  it('after 1,500 forward-proxy requests (scanned text answers) the new space has grown, to 2 × 4 MiB at most', async () => {
    const up = await startHttpUpstream()
    const file = path.join(tempDir('pipelock-trace-'), 'modules.txt')
    const proxy = await startProxy(baseConfig('ssrf:\n  ip_allowlist: ["127.0.0.0/8"]\nfetch_proxy:\n  monitoring:\n    max_requests_per_minute: 10000000'), {
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
      // Enough surviving allocation that V8's own sizing grows the young generation past the cap
      // (checked: with NODE_OPTIONS=--max-semi-space-size=16, which turns the cap off, the new
      // space is over 8 MiB after this).
      const statuses = await Promise.all(Array.from({length: 8}, async () => {
        const s: number[] = []
        for (let k = 0; k < 1500 / 8; k++) s.push(await get())
        return s
      }))
      assert.deepEqual([...new Set(statuses.flat())], [200])
      proxy.proc.kill('SIGUSR2')
      assert.ok(await until(async () => existsSync(file + '.heap.json'), 10_000), 'heap statistics written')
      const spaces = JSON.parse(readFileSync(file + '.heap.json', 'utf8')) as Record<string, number>
      assert.ok(spaces.new_space! > 2 * 1024 * 1024 && spaces.new_space! <= 8 * 1024 * 1024, `new_space ${spaces.new_space}`)
    } finally {
      agent.destroy()
      assert.equal(await proxy.stop(), 0)
      await up.close()
    }
  })
})
