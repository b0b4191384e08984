import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'

// `envelope trust add` over a target that is already trusted with another key: refused without
// --force; with it the record is replaced and its added_at says when the new key was trusted.

const NOTE = 'note: runtime proxy verification reads trusted keys from pipelock.yaml mediation_envelope.verify_inbound.trust_list; this trust store is for operator workflows until runtime trust-store loading is added.\n'
const FIRST = '812679a2'.repeat(8)
const SECOND = '24db41051f902b5c55e3263279da1d99b8043db7096dcf795641bb9fd80b8659'

interface Rec {
  trust_domain: string
  key_hex: string
  added_at: string
}

test('envelope trust add: another key for a trusted target needs --force, prints replaced and takes a new added_at', () => {
  const store = path.join(mkdtempSync(path.join(tmpdir(), 'pl-trust-add-')), 'trust.json')
  const add = runCli(['envelope', 'trust', 'add', 'partner.example', '--key', FIRST, '--store', store])
  assert.equal(add.status, 0, add.stderr)
  assert.equal(add.stdout, 'trusted\tpartner.example\n')
  // an old time, so the replacement's own time cannot equal it
  const aged = (JSON.parse(readFileSync(store, 'utf8')) as Rec[]).map((r) => ({...r, added_at: '2020-01-02T03:04:05Z'}))
  writeFileSync(store, JSON.stringify(aged, null, 2) + '\n', {mode: 0o600})
  const before = readFileSync(store, 'utf8')

  const refused = runCli(['envelope', 'trust', 'add', 'partner.example', '--key', SECOND, '--store', store])
  assert.equal(refused.status, 2)
  assert.equal(refused.stdout, '')
  assert.equal(refused.stderr, NOTE + 'trusted key for "partner.example" already exists (use --force to overwrite) [ENVELOPE_TRUST_INVALID]\n')
  assert.equal(readFileSync(store, 'utf8'), before)

  const same = runCli(['envelope', 'trust', 'add', 'partner.example', '--key', FIRST, '--store', store, '--force'])
  assert.equal(same.stdout, 'already trusted\tpartner.example\n')
  assert.equal(readFileSync(store, 'utf8'), before)

  const replaced = runCli(['envelope', 'trust', 'add', 'partner.example', '--key', SECOND, '--store', store, '--force'])
  assert.equal(replaced.status, 0, replaced.stderr)
  assert.equal(replaced.stdout, 'replaced\tpartner.example\n')
  const records = JSON.parse(readFileSync(store, 'utf8')) as Rec[]
  assert.equal(records.length, 1)
  assert.equal(records[0]!.key_hex, SECOND)
  assert.notEqual(records[0]!.added_at, '2020-01-02T03:04:05Z')
  assert.ok(Math.abs(Date.parse(records[0]!.added_at) - Date.now()) < 60_000, records[0]!.added_at)

  const json = runCli(['envelope', 'trust', 'add', 'partner.example', '--key', FIRST, '--store', store, '--force', '--json'])
  const out = JSON.parse(json.stdout) as {status: string; target: string; record: Rec}
  assert.equal(out.status, 'replaced')
  assert.equal(out.record.key_hex, FIRST)
})

test('envelope trust add: a second key for a trust domain is refused (verify takes one key per domain); a store record that is no object is refused by name', () => {
  const store = path.join(mkdtempSync(path.join(tmpdir(), 'pl-trust-clash-')), 'trust.json')
  assert.equal(runCli(['envelope', 'trust', 'add', 'outer.example', '--key', FIRST, '--store', store]).status, 0)
  const before = readFileSync(store, 'utf8')
  for (const force of [[], ['--force']]) {
    const r = runCli(['envelope', 'trust', 'add', 'spiffe://outer.example/agent/other', '--key', SECOND, '--store', store, ...force])
    assert.equal(r.status, 2)
    assert.equal(r.stderr, NOTE + 'trust domain "outer.example" is already trusted under another key (record "outer.example"); verify takes one key per trust domain: remove that record first, or add this one with the same key [ENVELOPE_TRUST_INVALID]\n')
    assert.equal(readFileSync(store, 'utf8'), before)
  }
  // The same key for a SPIFFE ID of the domain is fine.
  assert.equal(runCli(['envelope', 'trust', 'add', 'spiffe://outer.example/agent/other', '--key', FIRST, '--store', store]).status, 0)

  writeFileSync(store, '[null]\n', {mode: 0o600})
  for (const args of [['list'], ['add', 'x.example', '--key', FIRST]]) {
    const r = runCli(['envelope', 'trust', ...args, '--store', store])
    assert.equal(r.status, 2, r.stderr)
    assert.equal(r.stderr.split('\n').at(-2), 'trust store record 0: is not an object [ENVELOPE_TRUST_INVALID]')
  }
})
