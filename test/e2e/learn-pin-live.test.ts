import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fixedClock, type JsonObject} from '../../src/plugins/canonical/index.js'
import {openCaptureWriter, type CaptureSummary} from '../../src/plugins/capture/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {sha256Hex} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {cli, makeLab} from './learn-promote-harness.js'
import {rawExchange, startProxy, stopProxyAndServer, type RunningProxy} from './proxy-harness.js'

// The learn-and-lock guide's promises for reserved segments and `learn pin` ("use pin when a
// literal segment should be treated as reserved and never collapsed"). Captured traffic to
// /v1/users/<ids>, /v1/users/export and /v1/users/admin compiles to a collapsed /v1/users/*
// rule (export is one of the values it stood for) beside the admin rules (admin is a built-in
// reserved segment, never collapsed). The operator rejects the admin rules: the collapsed `*`
// never stands for a reserved word, so admin is denied with no pin. Pinning `export` on the
// collapsed rules takes it out of the collapse too. Live (an upstream on 127.0.0.26:80, so this
// needs root like the closed-loop test) and in shadow, a user id passes and both are denied.

const HOST = '127.0.0.26'
const AGENT = 'shop-agent'

function writeCapture(dir: string): string {
  const root = path.join(dir, 'capture')
  const w = openCaptureWriter(root, {clock: fixedClock('2026-04-30T11:00:00Z')})
  const summary = (url: string, method: string): CaptureSummary => ({
    capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: 'c', build_version: 't', build_sha: 't', agent: AGENT,
    action_class: 'read', payload_complete: false, transform_kind: '', request: {method, url}, raw_findings: null,
    effective_findings: null, effective_action: 'allow', outcome: 'clean',
  })
  for (let s = 1; s <= 6; s++) {
    const sessionId = `${AGENT}|10.0.0.${s}`
    for (let i = 0; i < 12; i++) w.append({sessionId, transport: 'forward', detail: summary(`http://${HOST}/v1/users/${sha256Hex(`${s}-${i}`).slice(0, 12)}`, 'GET')})
    w.append({sessionId, transport: 'forward', detail: summary(`http://${HOST}/v1/users/export`, 'GET')})
    w.append({sessionId, transport: 'forward', detail: summary(`http://${HOST}/v1/users/admin`, 'GET')})
  }
  w.close()
  return root
}

interface RuleView {
  id: string
  path: string | undefined
}

function rulesOf(file: string): RuleView[] {
  const env = loadContract(readFileSync(file, 'utf8'), file)
  return (env.body.get('rules') as JsonObject[]).map((r) => {
    const paths = (r.get('selector') as JsonObject).get('paths') as JsonObject[] | undefined
    return {id: r.get('rule_id') as string, path: paths?.[0]?.get('value') as string | undefined}
  })
}

describe('reserved and pinned segments are never ones a collapsed * stands for (live and shadow)', {timeout: 120_000}, () => {
  const lab = makeLab()
  const capture = writeCapture(lab.dir)
  const candidate = path.join(lab.dir, 'candidate.yaml')
  const pinned = path.join(lab.dir, 'pinned.yaml')
  const unpinnedRatified = path.join(lab.dir, 'unpinned.ratified.yaml')
  const pinnedRatified = path.join(lab.dir, 'pinned.ratified.yaml')
  const ks = ['--keystore', lab.ks]
  const seen: string[] = []
  let proxy: RunningProxy | undefined
  let server: http.Server | undefined
  after(() => stopProxyAndServer(proxy, server))

  /** Ratifies `file` answering per rule on a pipe: reject the host-wide and the admin rules, enforce the rest. */
  function ratify(file: string, out: string): string[] {
    const answers = rulesOf(file).map((r) => (r.path === undefined || r.path === '/v1/users/admin' ? 'r' : 'e'))
    assert.ok(answers.includes('e') && answers.includes('r'))
    const r = runCli(['learn', 'ratify', '--candidate', file, '--out', out, '--interactive', '--accept-low-confidence', ...ks], {input: answers.join('\n') + '\n'})
    assert.equal(r.status, 0, r.stderr)
    return r.stderr.split('\n').filter((l) => l.startsWith('WARNING'))
  }

  /** `learn shadow --json` of `contract` over the capture: its change rows. */
  function shadowChanges(contract: string): Array<{change: string; count: number; path: string}> {
    // The replay scans as the proxy below does: this loopback upstream is allowlisted there too.
    const config = path.join(lab.dir, 'replay.yaml')
    writeFileSync(config, `ssrf: {ip_allowlist: ["${HOST}/32"]}\n`)
    const r = runCli(['learn', 'shadow', '--contract', contract, '--config', config, '--sessions', capture, '--duration', '87600h', '--json', ...ks])
    assert.equal(r.status, 0, r.stderr)
    return (JSON.parse(r.stdout) as {report: {changes?: Array<{change: string; count: number; path: string}>}}).report.changes ?? []
  }

  it('compile collapses /v1/users/* (export among its values) beside the admin rules; pin export on every collapsed rule; ratify both without the admin rules', () => {
    const c = cli(['learn', 'compile', '--agent', AGENT, '--input', `${capture}/*/*.jsonl`, ...ks, '--compile-key-agent', 'ci-compile', '--output', candidate])
    assert.equal(c.code, 0, c.stderr)
    const collapsed = rulesOf(candidate).filter((r) => r.path === '/v1/users/*')
    assert.equal(collapsed.length, 3, 'destination, method and action rules')
    assert.equal(rulesOf(candidate).filter((r) => r.path === '/v1/users/admin').length, 3)
    assert.equal(rulesOf(candidate).filter((r) => r.path === '/v1/users/export').length, 0, 'export is one of the collapsed values')
    let from = candidate
    for (const r of collapsed) {
      const p = cli(['learn', 'pin', '--candidate', from, '--rule', r.id, '--segment', 'export', '--out', pinned, ...ks])
      assert.equal(p.code, 0, p.stderr)
      assert.equal(p.stdout, `pin: rule ${r.id}, segment "export" pinned, written to ${pinned}\n`)
      from = pinned
    }
    // The collapse does not cover the rejected admin rules (a reserved word): nothing to warn about.
    assert.deepEqual(ratify(candidate, unpinnedRatified), [])
    assert.deepEqual(ratify(pinned, pinnedRatified), [])
  })

  it('shadow: admin is a new block without a pin; with export pinned, export is one too', () => {
    assert.deepEqual(shadowChanges(unpinnedRatified).map((c) => [c.change, c.count, c.path]), [['new_block', 6, '/v1/users/admin']])
    const changes = shadowChanges(pinnedRatified)
    assert.deepEqual(changes.map((c) => [c.change, c.count, c.path]).sort(), [['new_block', 6, '/v1/users/admin'], ['new_block', 6, '/v1/users/export']])
  })

  it('live: the pinned contract lets a user id through and denies /v1/users/admin and /v1/users/export, which never reach the upstream', async () => {
    const promoted = cli(['learn', 'promote', '--contract-store', lab.store, '--roster', lab.roster, '--roster-root-fingerprint', lab.fp, '--activation-key', 'ops-alice', ...ks, '--candidate', pinnedRatified, '--selector', AGENT, '--environment-id', 'prod'])
    assert.equal(promoted.code, 0, promoted.stderr)
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      res.end('ok')
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${HOST}:80 (${e.code}); this test needs root to bind port 80`)))
      server!.listen(80, HOST, () => resolve())
    })
    proxy = await startProxy(['forward_proxy: {enabled: true}', `ssrf: {ip_allowlist: ["${HOST}/32"]}`, ...learnLockLines(lab.store, lab.roster, lab.fp)].join('\n') + '\n')
    const forward = async (p: string): Promise<string> =>
      await rawExchange(proxy!.port, `GET http://${HOST}${p} HTTP/1.1\r\nHost: ${HOST}\r\nX-Pipelock-Agent: ${AGENT}\r\nConnection: close\r\n\r\n`, {untilHeaders: true})
    assert.match((await forward('/v1/users/0a1b2c3d4e5f')).split('\r\n', 1)[0] ?? '', / 200 /)
    for (const p of ['/v1/users/admin', '/v1/users/ADMIN', '/v1/users/%61dmin', '/v1/users/export', '/v1/users/Export;x']) {
      const answer = await forward(p)
      assert.match(answer.split('\r\n', 1)[0] ?? '', / 403 /, p)
      assert.match(answer, /\r\nX-Pipelock-Block-Reason: contract_enforce_default\r\n/i, p)
    }
    assert.deepEqual(seen, ['GET /v1/users/0a1b2c3d4e5f'])
  })
})
