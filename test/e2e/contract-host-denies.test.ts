import {describe, it, after} from 'node:test'
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {cli, makeLab, promoteArgs, writeCandidate} from './learn-promote-harness.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {rawHttp, type RunningProxy, startProxy, tempDir} from './proxy-harness.js'
import {OTHER_HINTS} from '../../src/plugins/proxy/hints.js'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'

// Live contract blocks that no rule decided, through the forward proxy: the contract of shop-agent
// enforces only `POST /v1/cart/items` on 127.0.0.32 and keeps `/v1/checkout` capture-only. A port
// other than 80 is refused for the whole host, and a path no enforce rule matches is the host's
// default deny: the 403 names the host (and the port, or the capture-only rule that matches the
// request), and the receipt names no rule. So is a path with no canonical form when no single path
// rule applies to the request. Every request here is blocked before any upstream.

const HOST = '127.0.0.32'
const ENFORCED = 'r-30c49a8016bfcecab817' // the golden's `POST /v1/cart/items` rule
const CAPTURE_ONLY = 'r-1c6ed57b038552fa949d' // the golden's `any method /v1/checkout` rule
const lab = makeLab()
const cand = writeCandidate(lab, 'split', 0, 'ci-compile', {[ENFORCED]: 'enforce', [CAPTURE_ONLY]: 'capture_only'}, HOST, [ENFORCED, CAPTURE_ONLY])
const promoted = cli(promoteArgs(lab, cand.file, ['--environment-id', 'prod']))

interface ActionRecord {
  action_id: string
  target: string
  verdict: string
  contract_winning_source?: string
  contract_rule_id?: string
}

describe('learn_lock live: blocks of the host, not of a rule', {timeout: 90_000}, () => {
  let proxy: RunningProxy | undefined
  const recorder = path.join(tempDir('pl-host-denies-'), 'recorder')
  after(async () => {
    await proxy?.stop()
  })

  const get = (url: string, method = 'GET') =>
    rawHttp(proxy!.port, {method, path: url, headers: {'x-pipelock-agent': 'shop-agent'}})

  it('set-up: the split contract promoted, the proxy with a flight recorder', async () => {
    assert.equal(promoted.code, 0, promoted.stderr)
    proxy = await startProxy(
      [
        'explain_blocks: true',
        'forward_proxy: {enabled: true}',
        'ssrf: {ip_allowlist: ["127.0.0.0/8"]}',
        'flight_recorder:',
        '  enabled: true',
        `  dir: ${recorder}`,
        `  signing_key_path: ${path.join(lab.ks, 'agents', 'receipt-signing', 'id_ed25519')}`,
        ...learnLockLines(lab.store, lab.roster, lab.fp),
      ].join('\n') + '\n',
    )
  })

  it('a non-default port: 403 contract_non_default_port naming the host and the port', async () => {
    const r = await get(`http://${HOST}:8080/v1/cart/items`)
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'contract_non_default_port')
    assert.match(r.body, new RegExp(`^blocked: contract_non_default_port: request not allowed by contract sha256:[0-9a-f]{64} \\(port 8080 of host 127\\.0\\.0\\.32: contracts allow a host on its scheme's default port only\\)\\n$`))
  })

  it('a path only the capture-only rule matches: 403 contract_enforce_default naming that rule as not enforced', async () => {
    const r = await get(`http://${HOST}/v1/checkout`)
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'contract_enforce_default')
    assert.match(
      r.body,
      new RegExp(`^blocked: contract_enforce_default: request not allowed by contract sha256:[0-9a-f]{64} \\(no enforce rule of host 127\\.0\\.0\\.32 matches; capture-only rule ${CAPTURE_ONLY} matches but is not enforced: enforce it to allow such requests\\)\\n$`),
    )
    // explain_blocks: the hint says how to enforce that rule (learn ratify --decide, then learn promote)
    const hex = /contract sha256:([0-9a-f]{64}) /.exec(r.body)![1]
    const hint = r.headers['x-pipelock-hint'] as string
    assert.equal(
      hint,
      `Capture-only rule ${CAPTURE_ONLY} matches this request but is not enforced, and under a live contract only enforce rules allow. ` +
        `To allow such requests, enforce it: pipelock learn ratify --candidate CONTRACT.yaml --decide ${CAPTURE_ONLY}=e --out RATIFIED.yaml ` +
        `(CONTRACT.yaml: the contract you promoted; the store under learn_lock.store_dir keeps it as history/sha256-${hex}.yaml; its other rules keep their decisions), ` +
        'then pipelock learn promote --candidate RATIFIED.yaml with the --selector and store flags you promoted it with.',
    )
    // the hint's ratify command as given, on the contract the store keeps: that rule enforced, the other kept
    // (the keystore is the lab's)
    const ratified = path.join(lab.dir, 'ratified-from-hint.yaml')
    const command = /: pipelock (learn ratify [^(]+) \(/.exec(hint)![1]!.trim()
    const words = command.split(' ').map((w) => (w === 'CONTRACT.yaml' ? path.join(lab.store, 'history', `sha256-${hex}.yaml`) : w === 'RATIFIED.yaml' ? ratified : w))
    // (this rule is never_confirmed: the low-confidence guard asks a person to accept it first)
    const guarded = cli([...words, '--keystore', lab.ks])
    assert.equal(guarded.code, 1)
    assert.ok(guarded.stderr.startsWith(`learn ratify: low-confidence rules require explicit override: refusing non-interactive enforce for ${CAPTURE_ONLY}(confidence=never_confirmed); `), guarded.stderr)
    const followed = cli([...words, '--keystore', lab.ks, '--accept-low-confidence'])
    assert.equal(followed.code, 0, followed.stderr)
    assert.equal(followed.stdout, `ratify: 2 rules ratified (2 enforce, 0 capture-only), 0 rejected, written to ${ratified}\n`)
    const states = (loadContract(readFileSync(ratified, 'utf8'), ratified).body.get('rules') as JsonObject[]).map((x) => [x.get('rule_id'), x.get('lifecycle_state')])
    assert.deepEqual(Object.fromEntries(states), {[ENFORCED]: 'enforce', [CAPTURE_ONLY]: 'enforce'})
    const other = await get(`http://${HOST}/v1/products`)
    assert.equal(other.status, 403)
    assert.match(other.body, /\(no enforce rule of host 127\.0\.0\.32 matches\)\n$/)
    // no capture-only rule matches: the generic contract hint
    assert.equal(other.headers['x-pipelock-hint'], OTHER_HINTS.contract)
  })

  it('a path with no canonical form: the one enforce rule for POST is named; for GET, no path rule applies, the host is', async () => {
    const post = await get(`http://${HOST}//v1/cart/items`, 'POST')
    assert.equal(post.status, 403, post.body)
    assert.equal(post.headers['x-pipelock-block-reason'], 'contract_invalid_path')
    assert.match(post.body, new RegExp(`^blocked: contract_invalid_path: request not allowed by contract sha256:[0-9a-f]{64} \\(rule ${ENFORCED}\\)\\n$`))
    const r = await get(`http://${HOST}//v1/cart/items`)
    assert.equal(r.status, 403, r.body)
    assert.equal(r.headers['x-pipelock-block-reason'], 'contract_invalid_path')
    assert.match(r.body, new RegExp(`^blocked: contract_invalid_path: request not allowed by contract sha256:[0-9a-f]{64} \\(the path of this GET to host 127\\.0\\.0\\.32 has no canonical form, so the host's path rules cannot judge it\\)\\n$`))
  })

  it('the receipts of those blocks name no rule, save the one path rule that decided', async () => {
    await proxy!.stop()
    proxy = undefined
    const records: ActionRecord[] = []
    for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl'))) {
      for (const l of readFileSync(path.join(recorder, f), 'utf8').trim().split('\n')) {
        const e = JSON.parse(l) as {type: string; detail: {action_record?: ActionRecord}}
        if (e.type === 'action_receipt' && e.detail.action_record !== undefined) records.push(e.detail.action_record)
      }
    }
    const blocks = records.filter((x) => x.target.startsWith(`http://${HOST}`))
    assert.deepEqual(blocks.map((x) => [x.target, x.verdict, x.contract_winning_source, x.contract_rule_id]), [
      [`http://${HOST}:8080/v1/cart/items`, 'block', 'contract', undefined],
      [`http://${HOST}/v1/checkout`, 'block', 'contract', undefined],
      [`http://${HOST}/v1/products`, 'block', 'contract', undefined],
      [`http://${HOST}//v1/cart/items`, 'block', 'contract', ENFORCED],
      [`http://${HOST}//v1/cart/items`, 'block', 'contract', undefined],
    ])
  })
})
