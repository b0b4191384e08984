/**
 * Capture escrow end to end through the built CLI: `pipelock run --capture-escrow-public-key`
 * seals the bytes a dlp or response decision scanned into `NNNNNN.payload.enc` sidecars, and
 * `learn shadow --escrow-private-key` rescans them (learn-compile §2.1, learn-lifecycle §3.1).
 */
import assert from 'node:assert/strict'
import {cpSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {keyPairFromSeed, sealedBoxSealer, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'
import {baseConfig, rawHttp, startHttpUpstream, startProxy, tempDir, type Upstream} from './proxy-harness.js'

const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey.toString('hex')
// A token of the fixture DLP pattern below, assembled so this file holds no literal secret.
const TOKEN = ['fxt', '_q3egrz7nxplm4twb'].join('')
const DLP = ['dlp:', '  patterns:', '    - name: Fixture Token', '      regex: fxt_[a-z0-9]{16}', '      severity: high'].join('\n')

function keygen(dir: string, name: string): {pub: string; keyFile: string} {
  const keyFile = path.join(dir, name)
  const r = runCli(['escrow', 'keygen', '--out-private', keyFile])
  assert.equal(r.status, 0, r.stderr)
  const m = /^public: ([0-9a-f]{64})$/m.exec(r.stdout)
  assert.ok(m, r.stdout)
  return {pub: m[1] as string, keyFile}
}

async function post(port: number, target: string, body: string): Promise<number> {
  return await new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, method: 'POST', path: target, agent: false, headers: {'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body))}}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe('capture escrow: run --capture-escrow-public-key, then learn shadow --escrow-private-key', {timeout: 180_000}, () => {
  let up: Upstream
  before(async () => {
    up = await startHttpUpstream()
  })
  after(async () => {
    await up.close()
  })

  it('a body secret and a response injection are escrowed, found by shadow with the key, summary-only without, and a tampered sidecar or a wrong key aborts', async () => {
    const dir = tempDir('pipelock-escrow-')
    const cap = path.join(dir, 'capture')
    const {pub, keyFile} = keygen(dir, 'escrow.key')
    const scanning = [DLP, 'request_body_scanning:', '  enabled: true', '  action: block', 'response_scanning:', '  enabled: true', '  action: block'].join('\n')
    const proxy = await startProxy(baseConfig(['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', scanning].join('\n')), {dir, args: ['--capture-output', cap, '--capture-escrow-public-key', pub]})
    try {
      assert.match(proxy.stderr(), /dlp and response payloads escrowed in sealed sidecars/)
      assert.equal(await post(proxy.port, `http://127.0.0.1:${up.port}/echo`, `note: ${TOKEN}\n`), 403)
      assert.equal((await rawHttp(proxy.port, {path: `http://127.0.0.1:${up.port}/injection`})).status, 403)
    } finally {
      await proxy.stop()
    }

    const sessions = readdirSync(cap).filter((n) => n !== 'capture-meta')
    assert.equal(sessions.length, 1, sessions.join(','))
    const sdir = path.join(cap, sessions[0] as string)
    const sidecars = readdirSync(sdir).filter((n) => n.endsWith('.payload.enc')).sort()
    assert.deepEqual(sidecars, ['000000.payload.enc', '000001.payload.enc'])
    for (const s of sidecars) {
      assert.equal(statSync(path.join(sdir, s)).mode & 0o777, 0o600)
      const bytes = readFileSync(path.join(sdir, s))
      assert.equal(bytes.includes(Buffer.from(TOKEN)), false, 'the secret never reaches the disk in clear')
      assert.equal(bytes.includes(Buffer.from('previous instructions')), false)
    }
    const lines = readdirSync(sdir).filter((n) => n.endsWith('.jsonl')).flatMap((f) => readFileSync(path.join(sdir, f), 'utf8').trim().split('\n'))
    const details = lines.map((l) => JSON.parse(l)).filter((e) => e.type === 'capture').map((e) => e.detail)
    const dlp = details.find((d) => d.surface === 'dlp')
    const response = details.find((d) => d.surface === 'response')
    assert.equal(dlp.payload_ref, '000000.payload.enc')
    assert.equal(dlp.payload_bytes, Buffer.byteLength(`note: ${TOKEN}\n`))
    assert.match(dlp.payload_sha256, /^sha256:[0-9a-f]{64}$/)
    assert.equal(dlp.payload_complete, true)
    assert.equal(dlp.effective_action, 'block')
    assert.equal(response.payload_ref, '000001.payload.enc')

    // Two candidate configs: the same scanning (finds both again), and one without the fixture
    // pattern and with response findings only warned (finds neither, so both become new allows).
    const sameCfg = path.join(dir, 'same.yaml')
    writeFileSync(sameCfg, scanning + '\n')
    const looseCfg = path.join(dir, 'loose.yaml')
    writeFileSync(looseCfg, ['request_body_scanning:', '  enabled: true', '  action: block', 'response_scanning:', '  enabled: true', '  action: warn'].join('\n') + '\n')
    const contract = repoPath('goldens', 'tail-block', 'contract.yaml')
    const shadow = (sessionsDir: string, extra: string[], cfg = sameCfg) => runCli(['learn', 'shadow', '--contract', contract, '--contract-key', GOLDEN_PUB, '--config', cfg, '--sessions', sessionsDir, '--json', ...extra])
    // A refusal: exit 1, nothing on stdout, one line on stderr naming the capture line and the sidecar.
    const refused = (sessionsDir: string, key: string, why: RegExp): void => {
      const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', GOLDEN_PUB, '--config', sameCfg, '--sessions', sessionsDir, '--escrow-private-key', key])
      assert.equal(r.status, 1, r.stderr)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, why)
    }
    const report = (r: ReturnType<typeof runCli>) => {
      assert.equal(r.status, 0, r.stderr)
      return JSON.parse(r.stdout).report
    }

    // With the key: both payloads are rescanned. The same scanning finds the secret and the
    // injection again (replayed, unchanged); the loose candidate finds neither (two new allows).
    const same = report(shadow(cap, ['--escrow-private-key', keyFile]))
    assert.equal(same.summary_only, 0)
    assert.equal(same.replayed, same.total_records)
    assert.equal(same.changed, 0)
    assert.deepEqual(same.capture_surfaces.dlp, {grade: 'full', sidecar: true})
    assert.deepEqual(same.capture_surfaces.response, {grade: 'full', sidecar: true})
    const loose = report(shadow(cap, ['--escrow-private-key', keyFile], looseCfg))
    assert.equal(loose.summary_only, 0)
    assert.equal(loose.new_allows, 2)
    // The key inline (64 hex) works the same.
    assert.equal(report(shadow(cap, ['--escrow-private-key', readFileSync(keyFile, 'utf8').trim()], looseCfg)).new_allows, 2)

    // Without it: the payload records are summary-only, whatever the candidate.
    const without = report(shadow(cap, [], looseCfg))
    assert.equal(without.summary_only, 2)
    assert.equal(without.changed, 0)
    assert.deepEqual(without.capture_surfaces.dlp, {grade: 'partial', sidecar: true})

    // A wrong key: the whole replay stops, naming the sidecar and the capture line.
    const other = keygen(dir, 'other.key')
    refused(cap, other.keyFile, /^\/\S+\/evidence-[^:]+\.jsonl:\d+: learn shadow: capture sidecar "000000\.payload\.enc": sealed box does not open: authentication failed \(wrong key or corrupted file\); check --escrow-private-key \[SHADOW_INPUT_INVALID\]\n$/)

    // One flipped byte in a sidecar.
    const tampered = path.join(dir, 'tampered')
    cpSync(cap, tampered, {recursive: true})
    const victim = path.join(tampered, sessions[0] as string, '000000.payload.enc')
    const bytes = readFileSync(victim)
    bytes[bytes.length - 1]! ^= 1
    writeFileSync(victim, bytes)
    refused(tampered, keyFile, /: learn shadow: capture sidecar "000000\.payload\.enc": sealed box does not open: authentication failed \(wrong key or corrupted file\); check --escrow-private-key \[SHADOW_INPUT_INVALID\]\n$/)

    // A sidecar that opens but holds other bytes than the record's payload_sha256 says.
    const swapped = path.join(dir, 'swapped')
    cpSync(cap, swapped, {recursive: true})
    writeFileSync(path.join(swapped, sessions[0] as string, '000000.payload.enc'), sealedBoxSealer(Buffer.from(pub, 'hex'))(Buffer.from('other bytes')))
    refused(swapped, keyFile, /: learn shadow: capture sidecar "000000\.payload\.enc": SHA-256 of the decrypted payload does not match payload_sha256 "sha256:[0-9a-f]{64}" \[SHADOW_INPUT_INVALID\]\n$/)
  })
})
