import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {test} from 'node:test'
import {probeRunningProxy} from '../../../src/plugins/sandbox/proxy-probe.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

// `sandbox --proxy host:port`: the agent starts only when a pipelock answers /health there.

async function serving(status: number, body = '{"status":"healthy","kill_switch_active":false}', api = 404): Promise<{port: number; paths: string[]; close(): Promise<void>}> {
  const paths: string[] = []
  const s = http.createServer((req, res) => {
    paths.push(req.url ?? '')
    if (req.url === '/health') res.writeHead(status, {'content-type': 'application/json'}).end(body)
    else res.writeHead(api, {'content-type': 'text/plain'}).end('404 page not found\n')
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return {port: (s.address() as AddressInfo).port, paths, close: () => new Promise<void>((r) => s.close(() => r()))}
}

test('a pipelock answering /health with 200 and its health document is accepted', async () => {
  const s = await serving(200)
  try {
    await probeRunningProxy('127.0.0.1', s.port, `127.0.0.1:${s.port}`)
    assert.deepEqual(s.paths, ['/health', '/api/v1/killswitch/status'])
  } finally {
    await s.close()
  }
})

test('another server answering /health with 200 (no kill_switch_active in its answer) is refused: it may be a proxy that scans nothing', async () => {
  for (const body of ['{"status":"healthy"}', 'OK\n']) {
    const s = await serving(200, body)
    try {
      await assert.rejects(probeRunningProxy('127.0.0.1', s.port, 'other'), (e: unknown) => e instanceof PipelockError && e.code === 'SANDBOX_LAUNCH_FAILED' &&
        e.message === '--proxy other: the server there answers /health, but not as pipelock does (no kill_switch_active in its answer)')
    } finally {
      await s.close()
    }
  }
})

test('another answer, or none, refuses with SANDBOX_LAUNCH_FAILED naming what happened', async () => {
  const s = await serving(503)
  try {
    await assert.rejects(probeRunningProxy('127.0.0.1', s.port, 'here'), (e: unknown) => e instanceof PipelockError && e.code === 'SANDBOX_LAUNCH_FAILED' && e.message === '--proxy here: no pipelock answers there (/health answered HTTP 503)')
  } finally {
    await s.close()
  }
  await assert.rejects(probeRunningProxy('127.0.0.1', s.port, 'gone'), (e: unknown) => e instanceof PipelockError && e.message === '--proxy gone: no pipelock answers there (connection refused (ECONNREFUSED))')
})

test('a pipelock that serves its admin API on that port (no kill_switch.api_listen) is refused: the agent would reach the operator\'s controls', async () => {
  for (const api of [401, 429, 200]) {
    const s = await serving(200, undefined, api)
    try {
      await assert.rejects(probeRunningProxy('127.0.0.1', s.port, 'main'), (e: unknown) => e instanceof PipelockError && e.code === 'SANDBOX_LAUNCH_FAILED' &&
        e.message === `--proxy main: that pipelock serves its admin API (kill switch, sessions, policy) on the port the agent would reach (GET /api/v1/killswitch/status answered HTTP ${api})` &&
        e.hint === 'give that run kill_switch.api_listen (the admin API on a port of its own, which the sandbox never reaches), or leave out --proxy to run an embedded proxy')
    } finally {
      await s.close()
    }
  }
  // No api_token: the API refuses every call (503), as good as not served.
  const open = await serving(200, undefined, 503)
  try {
    await probeRunningProxy('127.0.0.1', open.port, 'main')
  } finally {
    await open.close()
  }
})
