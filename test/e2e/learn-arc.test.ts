import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {repoPath} from '../helpers/vectors.js'

// The whole learn-and-lock arc through the built CLI, in one temp dir (issue 4 "End-to-end test"):
// keys and roster → compile a golden corpus → shadow → ratify → promote (generation 1) → compile
// again → ratify → promote (generation 2) → rollback to generation 1 (generation 3) → forget a
// rule → re-promote of the tombstoned contract is refused. Every receipt written along the way
// verifies with `pipelock verify-receipt FILE --key K` and the roster's key for its signer; the
// journal records every accepted and rejected swap.
//
// Steps run in order and each is its own test. A step whose command does not exist (yet) FAILS;
// later steps still run with the best input available (e.g. promote falls back to the compiled,
// compile-signed candidate when ratify is missing) so one gap does not hide the others.

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

const dir = mkdtempSync(path.join(tmpdir(), 'pl-arc-'))
const home = path.join(dir, 'home')
mkdirSync(home)

function pipelock(args: string[]): Run {
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), ...args], {
    encoding: 'utf8',
    env: {...process.env, HOME: home, PIPELOCK_HOME: path.join(home, '.pipelock'), NO_COLOR: '1'},
  })
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function ok(r: Run, what: string): Run {
  assert.equal(r.code, 0, `${what} failed (exit ${String(r.code)}): ${r.stderr}`)
  return r
}

const ks = path.join(dir, 'ks')
const store = path.join(dir, 'store')
const rosterFile = path.join(dir, 'roster.json')
const rootFile = path.join(dir, 'root.json')
const corpus = repoPath('goldens', 'multi-session', 'input')
const pub = (id: string): string => path.join(ks, 'agents', id, 'id_ed25519.pub')
const KEYS: Array<[string, string, string]> = [
  ['ci-compile', 'contract-compile-signing', ''],
  ['receipt-signing', 'receipt-signing', ''],
  ['ops-alice', 'contract-activation-signing', 'alice'],
  ['ops-bob', 'contract-activation-signing', 'bob'],
]

describe('learn-and-lock arc through the CLI', () => {
  let fp = ''
  const cand1 = path.join(dir, 'cand1.yaml')
  const cand2 = path.join(dir, 'cand2.yaml')
  const rat1 = path.join(dir, 'ratified1.yaml')
  const rat2 = path.join(dir, 'ratified2.yaml')
  const receiptFiles = new Set<string>([path.join(store, 'activation-receipts.jsonl')])
  const promoted = (ratified: string, candidate: string): string => (existsSync(ratified) ? ratified : candidate)
  let g1 = ''
  let forgotten = ''

  const lifecycle = ['--contract-store', store, '--roster', rosterFile, '--keystore', ks]

  it('keys and roster: keygen ×4, signing key generate (root), signing roster build', () => {
    for (const [id] of KEYS) ok(pipelock(['keygen', id, '--keystore', ks]), `keygen ${id}`)
    const kr = ok(pipelock(['signing', 'key', 'generate', '--purpose', 'roster-root', '--out', rootFile]), 'signing key generate')
    fp = (kr.stdout.split('\n')[2] ?? '').replace('  fingerprint: ', '')
    assert.match(fp, /^sha256:[0-9a-f]{64}$/)
    const includes = KEYS.flatMap(([id, purpose, role]) => ['--include', `id=${id},key=${pub(id)},purpose=${purpose}${role ? `,role=${role}` : ''}`])
    ok(pipelock(['signing', 'roster', 'build', '--root', rootFile, ...includes, '--out', rosterFile]), 'roster build')
    ok(pipelock(['signing', 'roster', 'verify', '--path', rosterFile, '--root-fingerprint', fp]), 'roster verify')
  })

  it('learn compile the multi-session golden corpus', () => {
    const r = ok(
      pipelock(['learn', 'compile', '--agent', 'shop-agent', '--input', `${corpus}/*/*.jsonl`, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--output', cand1]),
      'learn compile',
    )
    assert.match(r.stdout, /^compile: 240 events, \d+ rules, written to /)
  })

  it('learn shadow replays the corpus against the candidate', () => {
    const recorder = path.join(dir, 'shadow-receipts')
    const r = pipelock([
      'learn', 'shadow', '--contract', cand1, '--contract-key', pub('ci-compile'), '--sessions', corpus, '--duration', '87600h',
      '--out', path.join(dir, 'shadow.md'), '--out-json', path.join(dir, 'shadow.json'), '--recorder-dir', recorder, '--keystore', ks,
    ])
    ok(r, 'learn shadow')
    assert.ok(existsSync(path.join(dir, 'shadow.md')))
    const shadow = JSON.parse(readFileSync(path.join(dir, 'shadow.json'), 'utf8')) as Record<string, unknown>
    assert.ok(typeof shadow === 'object')
    receiptFiles.add(recorder)
  })

  it('learn ratify (non-interactive, low-confidence override) re-signs and writes a contract_ratified receipt', () => {
    const r = pipelock(['learn', 'ratify', '--candidate', cand1, '--out', rat1, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--accept-low-confidence'])
    ok(r, 'learn ratify')
    assert.match(r.stdout, /^ratify: (\d+) rules ratified \(\1 enforce, 0 capture-only\), 0 rejected, written to /)
    receiptFiles.add(path.join(dir, 'ratification-receipts.jsonl'))
  })

  it('promote generation 1 (stages the ratified contract into history/)', () => {
    const r = ok(
      pipelock(['learn', 'promote', ...lifecycle, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice', '--candidate', promoted(rat1, cand1), '--selector', 'shop-agent', '--environment-id', 'prod', '--tenant', 'acme', '--deployment-id', 'eu-1']),
      'promote 1',
    )
    const m = /^promote: manifest (sha256:[0-9a-f]{64}) generation 1 active\n$/.exec(r.stdout)
    assert.ok(m, r.stdout)
    g1 = m[1] as string
  })

  it('compile again (three of five sessions), ratify, promote generation 2 with dual control', () => {
    ok(pipelock(['learn', 'compile', '--agent', 'shop-agent', '--input', `${corpus}/shop-agent|10.0.0.[123]/*.jsonl`, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--output', cand2]), 'compile 2')
    const rr = pipelock(['learn', 'ratify', '--candidate', cand2, '--out', rat2, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--receipt-key-agent', 'receipt-signing', '--accept-low-confidence'])
    const r = ok(
      pipelock(['learn', 'promote', ...lifecycle, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice', '--dual-control-from', 'ops-bob', '--candidate', promoted(rat2, cand2), '--selector', 'shop-agent']),
      'promote 2',
    )
    assert.match(r.stdout, /^promote: manifest sha256:[0-9a-f]{64} generation 2 active\n$/)
    ok(rr, 'learn ratify (second candidate)')
  })

  it('rollback to generation 1 mints generation 3', () => {
    const r = ok(pipelock(['learn', 'rollback', ...lifecycle, '--roster-root-fingerprint', fp, '--activation-key', 'ops-bob', '--to', g1]), 'rollback')
    assert.equal(r.stdout, `rollback: manifest ${g1} reactivated as generation 3\n`)
  })

  it('learn forget a rule: tombstone lands in the store, signed by an activation key', () => {
    const source = promoted(rat1, cand1)
    const ruleId = /rule_id: "?([^"\n]+)"?/.exec(readFileSync(source, 'utf8'))?.[1] ?? ''
    forgotten = path.join(dir, 'forgotten.yaml')
    const r = pipelock([
      'learn', 'forget', '--candidate', source, '--rule-id', ruleId, '--reason', 'operator_request', '--out', forgotten,
      '--tombstone-dir', path.join(dir, 'tombstones'), '--store', store, '--roster', rosterFile, '--roster-root-fingerprint', fp, '--keystore', ks, '--compile-key-agent', 'ci-compile', '--activation-key', 'ops-alice',
      '--receipt-out', path.join(dir, 'redaction-receipts.jsonl'),
    ])
    ok(r, 'learn forget')
    assert.match(r.stdout, /^forget: rule .+ removed, candidate written to .+, tombstone written to .+\n$/)
    const hash = /contract_hash: "?(sha256:[0-9a-f]{64})/.exec(readFileSync(source, 'utf8'))?.[1] ?? ''
    assert.ok(existsSync(path.join(store, 'tombstones', `sha256-${hash.slice(7)}.json`)), 'tombstone filed into <store>/tombstones/')
    receiptFiles.add(path.join(dir, 'redaction-receipts.jsonl'))
  })

  it('re-promote of the tombstoned contract is refused, and the refusal is recorded', () => {
    const r = pipelock(['learn', 'promote', ...lifecycle, '--roster-root-fingerprint', fp, '--activation-key', 'ops-alice', '--candidate', promoted(rat1, cand1), '--selector', 'shop-agent'])
    assert.equal(r.code, 1, r.stdout)
    assert.match(r.stderr, /^contract store: prior contract is tombstoned and cannot be re-promoted: selector_id="sha256:[0-9a-f]{64}" contract_hash=sha256:[0-9a-f]{64} /)
    const active = JSON.parse(readFileSync(path.join(store, 'active.json'), 'utf8')) as {body: {generation: number}}
    assert.equal(active.body.generation, 3)
  })

  it('the journal records each accepted and rejected swap', () => {
    const lines = readFileSync(path.join(store, '.activation_journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {outcome: string; generation?: number})
    assert.deepEqual(lines.map((l) => `${l.outcome}${l.generation === undefined ? '' : ':' + l.generation}`), ['accepted:1', 'accepted:2', 'accepted:3', 'rejected'])
  })

  it('every receipt verifies with pipelock verify-receipt and the roster key of its signer', () => {
    const roster = JSON.parse(readFileSync(rosterFile, 'utf8')) as {body: {keys: Array<{key_id: string; public_key_hex: string}>}}
    const keyOf = new Map(roster.body.keys.map((k) => [k.key_id, k.public_key_hex]))
    const files: string[] = []
    for (const f of receiptFiles) {
      if (!existsSync(f)) continue
      if (f.endsWith('.jsonl')) files.push(f)
      else files.push(...spawnSync('find', [f, '-name', '*.jsonl'], {encoding: 'utf8'}).stdout.split('\n').filter((x) => x !== ''))
    }
    const kinds: string[] = []
    let n = 0
    for (const f of files) {
      for (const line of readFileSync(f, 'utf8').split('\n').filter((l) => l !== '')) {
        const rec = JSON.parse(line) as {payload_kind: string; signature: {signer_key_id: string}; payload: {validation_outcome?: string}}
        const key = keyOf.get(rec.signature.signer_key_id)
        assert.ok(key, `signer ${rec.signature.signer_key_id} of a ${rec.payload_kind} receipt is in the roster`)
        const one = path.join(dir, `receipt-${n++}.json`)
        writeFileSync(one, line + '\n')
        const v = pipelock(['verify-receipt', one, '--key', key])
        assert.equal(v.code, 0, `${rec.payload_kind}: ${v.stdout}${v.stderr}`)
        kinds.push(rec.payload_kind + (rec.payload.validation_outcome ? `:${rec.payload.validation_outcome}` : ''))
      }
    }
    const lifecycleKinds = kinds.filter((k) => k.startsWith('contract_promote') || k.startsWith('contract_rollback'))
    assert.deepEqual(lifecycleKinds, [
      'contract_promote_intent',
      'contract_promote_committed:accepted',
      'contract_promote_intent',
      'contract_promote_committed:accepted',
      'contract_rollback_authorized',
      'contract_rollback_committed:accepted',
      'contract_promote_intent',
      'contract_promote_committed:rejected',
    ])
    assert.ok(kinds.includes('contract_ratified'), 'ratify wrote a contract_ratified receipt')
    assert.ok(kinds.includes('contract_redaction_request'), 'forget wrote a contract_redaction_request receipt')
  })
})
