import assert from 'node:assert/strict'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {test} from 'node:test'
import {probeRunningProxy} from '../../../src/plugins/sandbox/proxy-probe.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

// `sandbox --proxy host:port`: the agent starts only when a pipelock answers /health there.

async function serving(status: number, body = '{"status":"healthy","kill_switch_active":false}'): Promise<{port: number; paths: string[]; close(): Promise<void>}> {
  const paths: string[] = []
  const s = http.createServer((req, res) => {
    paths.push(req.url ?? '')
    res.writeHead(status, {'content-type': 'application/json'}).end(body)
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return {port: (s.address() as AddressInfo).port, paths, close: () => new Promise<void>((r) => s.close(() => r()))}
}

test('a pipelock answering /health with 200 and its health document is accepted', async () => {
  const s = await serving(200)
  try {
    await probeRunningProxy('127.0.0.1', s.port, `127.0.0.1:${s.port}`)
    assert.deepEqual(s.paths, ['/health'])
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
