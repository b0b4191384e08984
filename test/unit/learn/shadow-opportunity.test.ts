import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {parse as parseYaml} from 'yaml'
import {fromPlain, JsonNumber, type JsonObject} from '../../../src/plugins/canonical/index.js'
import {deterministicKey, findOpportunityMissing, observeOpportunity, OPPORTUNITY_WINDOW_NS, opportunityRules, opportunityTable, opportunityTableRules} from '../../../src/plugins/learn/index.js'
import type {ReplayedRecord} from '../../../src/plugins/learn/shadow-analyze.js'
import {runCli} from '../../helpers/cli.js'
import {repoPath} from '../../helpers/vectors.js'

const H = OPPORTUNITY_WINDOW_NS
const T0 = 1_777_622_400_000_000_000n // 2026-05-01T08:00:00Z

function rec(url: string, at: bigint): ReplayedRecord {
  return {surface: 'url', method: 'GET', url, toolName: '', mcpMethod: '', originalAction: 'allow', candidateAction: 'allow', evidenceOnly: false, summaryOnly: false, findings: [], grade: 'full', sidecar: false, observedAtNs: at}
}

function rule(id: string, host: string, seen: number, withOpp: number, threshold = '0.50', state = 'capture_only'): Record<string, unknown> {
  return {
    rule_id: id,
    rule_kind: 'http_destination',
    lifecycle_state: state,
    selector: {host: {value: host, data_class: 'public'}},
    observation: {windows_observed: seen, windows_with_opportunity: withOpp},
    opportunity_health: {missing_alert_threshold: threshold},
  }
}

test('a rule whose host appears in too few replay windows is reported, with decimal-string rates', () => {
  // four windows of traffic; api.example.com in all, docs.example.com in one, gone.example.com in none
  const records = [0n, 1n, 2n, 3n].flatMap((w) => [rec('https://api.example.com/v1', T0 + w * H + 5n), ...(w === 0n ? [rec('https://Docs.Example.com./x', T0 + 7n)] : [])])
  const obs = observeOpportunity(records)
  assert.equal(obs.windows.size, 4)
  const body = fromPlain({
    rules: [rule('r-api', 'api.example.com', 2, 2), rule('r-docs', 'docs.example.com', 2, 2), rule('r-gone', 'gone.example.com', 2, 2), rule('r-lax', 'docs.example.com', 2, 2, '0.20'), rule('r-exp', 'gone.example.com', 2, 2, '0.50', 'expired')],
  }) as JsonObject
  assert.deepEqual(findOpportunityMissing(body, obs), [
    {ruleId: 'r-docs', parentContext: 'docs.example.com', historicalRate: '1.00', currentRate: '0.25', window: '2026-05-01T08:00:00Z/2026-05-01T12:00:00Z'},
    {ruleId: 'r-gone', parentContext: 'gone.example.com', historicalRate: '1.00', currentRate: '0.00', window: '2026-05-01T08:00:00Z/2026-05-01T12:00:00Z'},
  ])
})

test('no timestamped traffic, or no usable observation: nothing is reported', () => {
  const body = fromPlain({rules: [rule('r', 'gone.example.com', 0, 0), {...rule('r2', 'gone.example.com', 2, 2), opportunity_health: {missing_alert_threshold: new JsonNumber('0.5')}}]}) as JsonObject
  assert.deepEqual(findOpportunityMissing(body, observeOpportunity([rec('https://a.example/', T0)])), [])
  assert.deepEqual(findOpportunityMissing(fromPlain({rules: [rule('r', 'gone.example.com', 2, 2)]}) as JsonObject, observeOpportunity([])), [])
})

test('the opportunity table holds exactly the rules opportunityRules reads, and survives a structured clone', () => {
  // Past the builder's first capacities (256 rules, 4 KiB of ids), with non-ASCII ids, hosts shared
  // by many rules (written in other cases and with a trailing dot), rules without a history between.
  const rules: Record<string, unknown>[] = []
  for (let i = 0; i < 1500; i++) {
    const host = i % 3 === 0 ? `Host-${i % 40}.Example.COM.` : `host-${i % 40}.example.com`
    rules.push(rule(`r-${i}-${'é∂'.repeat(i % 5)}-${'x'.repeat(i % 23)}`, host, 1 + (i % 9), i % 11, i % 2 === 0 ? '0.50' : '0.25'))
    if (i % 7 === 0) rules.push(rule(`none-${i}`, host, 0, 0))
    if (i % 13 === 0) rules.push(rule(`expired-${i}`, host, 2, 2, '0.50', 'expired'))
  }
  const body = fromPlain({rules}) as JsonObject
  const table = opportunityTable(body)
  const expected = opportunityRules(body)
  assert.equal(table.size, 1500)
  assert.equal(table.hosts.length, 40, 'one host string per distinct host')
  assert.deepEqual([...opportunityTableRules(table)], expected)
  const cloned = structuredClone(table)
  assert.deepEqual([...opportunityTableRules(cloned)], expected)
  // The same findings from the table as from the body, on traffic that leaves some hosts out.
  const obs = observeOpportunity([0n, 1n, 2n].flatMap((w) => Array.from({length: 40}, (_, h) => h).filter((h) => h % 4 !== 0 || w === 0n).map((h) => rec(`https://host-${h}.example.com/x`, T0 + w * H))))
  const missing = findOpportunityMissing(body, obs)
  assert.ok(missing.length > 100, `${missing.length} findings`)
  assert.deepEqual(findOpportunityMissing(table, obs), missing)
  assert.deepEqual(findOpportunityMissing(cloned, obs), missing)
})

test('learn shadow --recorder-dir writes a verifying opportunity_missing receipt for a rule whose host vanished', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-opp-'))
  t.after(() => rmSync(dir, {recursive: true, force: true}))
  // the multi-session candidate plus one rule for a host the captures never contact; unsigned
  // edits are only accepted with the diagnostics flag, which is what this test uses
  const env = parseYaml(readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8'))
  env.body.rules.push({...env.body.rules[0], rule_id: 'r-vanished', selector: {host: {value: 'vanished.example.com', data_class: 'public'}}})
  const contract = path.join(dir, 'contract.json')
  writeFileSync(contract, JSON.stringify(env))
  const rec = path.join(dir, 'recorder')
  const r = runCli(['learn', 'shadow', '--contract', contract, '--allow-unsigned-contract-for-diagnostics', '--sessions', repoPath('goldens', 'multi-session', 'input'), '--recorder-dir', rec, '--deterministic', '--out', path.join(dir, 'shadow.md')])
  assert.equal(r.status, 0, r.stderr)
  const file = path.join(rec, 'proxy', readdirSync(path.join(rec, 'proxy'))[0] as string)
  const entries = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  const missing = entries.filter((e) => e.event_kind === 'opportunity_missing')
  assert.equal(missing.length, 1)
  assert.equal(missing[0].detail.payload.rule_id, 'r-vanished')
  assert.equal(missing[0].detail.payload.parent_context, 'vanished.example.com')
  assert.equal(missing[0].detail.payload.current_opportunity_rate, '0.00')
  // the v2 receipt verifies with the deterministic shadow receipt key through the CLI
  const single = path.join(dir, 'opportunity.json')
  writeFileSync(single, JSON.stringify(missing[0].detail))
  const pub = deterministicKey('shadowReceipt').keyPair.publicKey.toString('hex')
  const v = runCli(['verify-receipt', single, '--key', pub])
  assert.equal(v.status, 0, v.stdout + v.stderr)
  assert.match(v.stdout, /Payload kind: opportunity_missing/)
})
