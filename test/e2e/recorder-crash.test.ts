import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {request} from 'undici'
import {generateAgentKeys} from '../../src/plugins/signing/index.js'
import {repoPath} from '../helpers/vectors.js'
import {startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'

// Evidence on every decision survives a crash: `kill -9` in the middle of traffic leaves a
// chain that verifies up to its last complete line, every request a client got an answer for
// has its receipt (record before answer), and the next start continues the same chain.

const dir = tempDir('pl-crash-')
const ks = path.join(dir, 'ks')
generateAgentKeys(ks, 'recorder')
const evidence = path.join(dir, 'evidence')
const pub = path.join(ks, 'agents', 'recorder', 'id_ed25519.pub')
let upstream: Upstream

function config(): string {
  return [
    'forward_proxy: {enabled: true}',
    'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
    'fetch_proxy: {monitoring: {max_requests_per_minute: 100000}}',
    `flight_recorder: {enabled: true, dir: ${evidence}, signing_key_path: ${path.join(ks, 'agents', 'recorder', 'id_ed25519')}}`,
  ].join('\n') + '\n'
}

function receipts(): Array<{request_id?: string; verdict: string; action_type: string}> {
  const out: Array<{request_id?: string; verdict: string; action_type: string}> = []
  for (const f of readdirSync(evidence).filter((n) => n.endsWith('.jsonl'))) {
    for (const l of readFileSync(path.join(evidence, f), 'utf8').split('\n')) {
      if (!l.endsWith('}')) continue
      const e = JSON.parse(l) as {type: string; detail: {action_record: {request_id?: string; verdict: string; action_type: string}}}
      if (e.type === 'action_receipt') out.push(e.detail.action_record)
    }
  }
  return out
}

function verify(): {code: number | null; out: string} {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), 'verify-receipt', '--chain', evidence, '--key', pub], {encoding: 'utf8'})
  return {code: r.status, out: r.stdout + r.stderr}
}

describe('flight recorder across kill -9', () => {
  after(async () => upstream?.close())

  it('every answered request has a receipt; the chain verifies after the crash and continues after a restart', async () => {
    upstream = await startHttpUpstream()
    const p = await startProxy(config(), {dir})
    let answered = 0
    let stop = false
    const worker = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await request(`http://127.0.0.1:${p.port}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upstream.port}/page`)}`)
          await r.body.text()
          if (r.statusCode === 200) answered++
        } catch {
          return // the proxy is gone
        }
      }
    }
    const workers = Array.from({length: 8}, worker)
    while (answered < 150) await new Promise((r) => setTimeout(r, 10))
    p.proc.kill('SIGKILL')
    stop = true
    await Promise.all(workers)
    await p.stop()
    const before = receipts().filter((r) => r.verdict === 'allow' && r.request_id !== undefined)
    assert.ok(before.length >= answered, `receipts ${before.length} < answered ${answered}: a response left before its receipt`)
    const v1 = verify()
    assert.equal(v1.code, 0, v1.out)

    const q = await startProxy(config(), {dir})
    const r = await request(`http://127.0.0.1:${q.port}/fetch?url=${encodeURIComponent(`http://127.0.0.1:${upstream.port}/page`)}`)
    await r.body.text()
    assert.equal(await q.stop(), 0)
    const v2 = verify()
    assert.equal(v2.code, 0, v2.out)
    assert.match(v2.out, /CHAIN VALID/)
  })
})
