import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {pathToFileURL} from 'node:url'
import {bodyScanHandler, type BodyScanJob, type BodyScanReply} from '../../../src/plugins/proxy/scan-offload/jobs.js'
import {loadPresetConfig} from '../../../src/plugins/config/index.js'
import {scannerSettingsFromConfig} from '../../../src/plugins/proxy/index.js'
import {bundledWorkerUrl, WorkerPool} from '../../../src/plugins/workers/index.js'
import {repoPath} from '../../helpers/vectors.js'

const src = repoPath('dist', 'src')
const bundles = repoPath('dist', 'run', 'workers')

/** Every worker-thread module tsc built (`*-worker.js` below dist/src), as paths below it. */
function workerModules(): string[] {
  const out: string[] = []
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('-worker.js')) out.push(path.relative(src, p))
    }
  }
  walk(src)
  return out.sort()
}

describe('worker threads start from their bundles', () => {
  const probeDir = path.join(bundles, 'plugins', `bundled-test-${process.pid}`)
  after(() => rmSync(probeDir, {recursive: true, force: true}))

  it('every worker module under dist/src has a bundle at its own path below dist/run/workers, and that is the URL a thread starts from', () => {
    const modules = workerModules()
    assert.deepEqual(modules, [
      'plugins/learn/shadow-contract-worker.js', 'plugins/learn/shadow-scan-worker.js', 'plugins/mcp-proxy/scan-worker.js',
      'plugins/proxy/scan-offload/body-scans-worker.js', 'plugins/signing/verify-worker.js',
    ])
    for (const m of modules) {
      const chosen = bundledWorkerUrl(pathToFileURL(path.join(src, m)))
      assert.equal(chosen.href, pathToFileURL(path.join(bundles, m)).href, m)
      assert.ok(existsSync(chosen), `${m}: no bundle`)
    }
  })

  it('a worker outside dist/src, or one without a bundle, starts from the module as given', () => {
    const fixture = new URL('./fixtures/none-worker.js', import.meta.url)
    assert.equal(bundledWorkerUrl(fixture).href, fixture.href)
    const unbundled = pathToFileURL(path.join(src, 'plugins', 'workers', 'no-such-worker.js'))
    assert.equal(bundledWorkerUrl(unbundled).href, unbundled.href)
  })

  it('the pool starts its threads from the bundle: a worker module that exists only as a bundle answers', async () => {
    mkdirSync(probeDir, {recursive: true})
    writeFileSync(path.join(probeDir, 'probe-worker.js'), [
      "import {parentPort} from 'node:worker_threads'",
      "parentPort.on('message', ({id, job}) => parentPort.postMessage({id, reply: `bundle: ${job}`}))",
    ].join('\n') + '\n')
    // dist/src holds no such module: only the bundle can answer.
    const url = pathToFileURL(path.join(src, 'plugins', path.basename(probeDir), 'probe-worker.js'))
    const pool = new WorkerPool<string, string, null>({workerUrl: url, init: null, workers: 1})
    try {
      assert.equal(await pool.run('ping', 4), 'bundle: ping')
    } finally {
      await pool.close()
    }
  })

  it('the bundled body-scan worker answers a job as the event loop does', async () => {
    const settings = scannerSettingsFromConfig(loadPresetConfig('balanced').config, {env: {}})
    const init = {scanners: [settings], redaction: null}
    const body = Buffer.from(`{"note":"${'plain words '.repeat(8000)}","key":"AKIAIOSFODNN7EXAMPLE"}`)
    const job: BodyScanJob = {kind: 'request', scanner: 0, input: {contentType: 'application/json', body, host: 'example.com'}, suppression: null}
    const here = bodyScanHandler(init)(job)
    const pool = new WorkerPool<BodyScanJob, BodyScanReply, typeof init>({workerUrl: pathToFileURL(path.join(src, 'plugins/proxy/scan-offload/body-scans-worker.js')), init, workers: 1})
    try {
      const there = await pool.run(job, body.length)
      assert.equal(there.kind, 'request')
      assert.deepEqual(there, here)
      assert.ok(there.kind === 'request' && there.result.action !== 'allow', 'the key is found')
    } finally {
      await pool.close()
    }
  })
})
