import assert from 'node:assert/strict'
import http from 'node:http'
import {test} from 'node:test'
import {runCliAsync} from '../helpers/cli.js'

// `pipelock healthcheck` is what a container supervisor logs when the proxy is down: it says
// why in words, and which subsystem the watchdog found stale.

async function serve(handler: http.RequestListener): Promise<{port: number; close: () => Promise<void>}> {
  const server = http.createServer(handler)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {port: (server.address() as {port: number}).port, close: () => new Promise<void>((r) => server.close(() => r()))}
}

test('a closed port is "connection refused (ECONNREFUSED)", exit 1', async () => {
  const s = await serve(() => undefined)
  await s.close()
  const r = await runCliAsync(['healthcheck', '--addr', `127.0.0.1:${s.port}`])
  assert.deepEqual([r.status, r.stdout], [1, 'unhealthy: connection refused (ECONNREFUSED)\n'])
})

test('a watchdog 503 names the unhealthy subsystems /health reports', async () => {
  const body = JSON.stringify({status: 'unhealthy', kill_switch_active: false, subsystems: {scanner: false, config: true, session: true, killswitch: true, watchdog: false}})
  const s = await serve((_q, res) => res.writeHead(503, {'content-type': 'application/json'}).end(body))
  try {
    const r = await runCliAsync(['healthcheck', '--addr', `127.0.0.1:${s.port}`])
    assert.deepEqual([r.status, r.stdout], [1, 'unhealthy: HTTP 503 (unhealthy: scanner, watchdog)\n'])
    const j = JSON.parse((await runCliAsync(['healthcheck', '--addr', `127.0.0.1:${s.port}`, '--json'])).stdout) as {unhealthy_subsystems: string[]}
    assert.deepEqual(j.unhealthy_subsystems, ['scanner', 'watchdog'])
  } finally {
    await s.close()
  }
})
