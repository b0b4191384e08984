import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {verifyEvidenceSet} from '../../../src/plugins/audit/evidence-set.js'
import {KeyRing} from '../../../src/plugins/audit/key-ring.js'
import {
  AdaptiveSignatureChecks,
  InlineSignatureChecks,
  ParallelSignatureChecks,
  ReceiptChainBuilder,
  RecorderEntryChain,
  type ActionReceipt,
} from '../../../src/plugins/receipts/index.js'
import {action, keyA, K1} from '../../helpers/receipt-fixtures.js'

// Differential test of the verifier's fast path (issue 11): the evidence-set report of a chain
// verified with the signatures on the worker pool (default thresholds, and odd pool shapes)
// must equal, byte for byte as JSON, the report of the single-threaded path, where every
// signature is checked inline in input order — on valid chains and on broken ones.

const N = 1_100 // above the adaptive threshold: the default path uses the worker pool

function receipts(n: number): ActionReceipt[] {
  const b = new ReceiptChainBuilder(keyA())
  return Array.from({length: n}, (_, i) => {
    const s = String(i % 60).padStart(2, '0')
    return b.append(action(`d-${i}`, `2026-11-22T09:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${s}.${String(i).padStart(6, '0')}Z`, i % 3 === 0 ? 'write' : 'read'))
  })
}

function lines(rs: readonly ActionReceipt[]): string[] {
  const entries = new RecorderEntryChain('proxy')
  return rs.map((r) => entries.receiptEntry(r, '2026-11-22T09:00:00Z').line)
}

/** Flips one hex digit of the signature (format checks pass; only Ed25519 fails). */
function flipSignature(r: ActionReceipt): ActionReceipt {
  const hex = r.signature.slice(8)
  return {...r, signature: 'ed25519:' + (Number.parseInt(hex[0] as string, 16) ^ 1).toString(16) + hex.slice(1)}
}

const base = receipts(N)
const valid = lines(base)

// `line`: where the failure must be reported (receipt i is on line i + 1), whichever thread found it.
const variants: {name: string; text: string; valid: boolean; failure?: RegExp; line?: number}[] = [
  {name: 'valid chain', text: valid.join('\n') + '\n', valid: true},
  {
    name: 'bad signature, entries rewritten so only Ed25519 fails',
    text: lines(base.map((r, i) => (i === 1_034 ? flipSignature(r) : r))).join('\n') + '\n',
    valid: false,
    failure: /seq 1034: signature: signature verification failed/,
    line: 1035,
  },
  {
    name: 'two bad signatures in different batches: the earliest wins',
    text: lines(base.map((r, i) => (i === 1_090 || i === 1_050 ? flipSignature(r) : r))).join('\n') + '\n',
    valid: false,
    failure: /seq 1050: signature/,
    line: 1051,
  },
  {
    name: 'bad signature edited in place (entry hash broken too)',
    text: valid.map((l, i) => (i === 1_080 ? l.replace(/"signature":"ed25519:(.)/, (_m, c: string) => `"signature":"ed25519:${c === '0' ? '1' : '0'}`) : l)).join('\n') + '\n',
    valid: false,
    line: 1081,
  },
  {name: 'broken link: a line removed', text: valid.filter((_, i) => i !== 700).join('\n') + '\n', valid: false, line: 701},
  {
    name: 'reordered: two lines swapped',
    text: valid.map((l, i) => (i === 300 ? valid[301] : i === 301 ? valid[300] : l)).join('\n') + '\n',
    valid: false,
    line: 301,
  },
  {
    name: 'truncated last line (an interrupted write: a warning, not a failure)',
    text: valid.join('\n') + '\n' + (lines(receipts(N + 1))[N] as string).slice(0, 300),
    valid: true,
  },
  {
    name: 'non-canonical number in the signed record',
    text: valid.map((l, i) => (i === 900 ? l.replace('"chain_seq":900}', '"chain_seq":9e2}') : l)).join('\n') + '\n',
    valid: false,
    failure: /chain_seq/,
    line: 901,
  },
  {
    name: 'duplicate key in the signed record',
    text: valid.map((l, i) => (i === 1_000 ? l.replace('"verdict":"allow"', '"verdict":"allow","verdict":"allow"') : l)).join('\n') + '\n',
    valid: false,
    line: 1001,
  },
  {
    name: 'whitespace inside the receipt (entry hash covers the bytes)',
    text: valid.map((l, i) => (i === 1_060 ? l.replace('"action_record":{', '"action_record": {') : l)).join('\n') + '\n',
    valid: false,
    failure: /hash mismatch/,
    line: 1061,
  },
  {name: 'signed by another key than the pinned one', text: valid.join('\n') + '\n', valid: false, line: 1},
]

describe('evidence-set verification: worker pool vs inline signatures give identical reports', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-verify-diff-'))
  process.on('exit', () => rmSync(dir, {recursive: true, force: true}))
  variants.forEach((v, vi) => {
    test(v.name, async () => {
      const file = path.join(dir, `v${vi}.jsonl`)
      writeFileSync(file, v.text)
      // the last variant pins a key that signed nothing here
      const keys = KeyRing.load({keys: [vi === variants.length - 1 ? 'aa'.repeat(32) : K1]})
      const run = async (signatures?: InstanceType<typeof InlineSignatureChecks> | AdaptiveSignatureChecks | ParallelSignatureChecks) =>
        JSON.stringify(await verifyEvidenceSet({files: [file], label: 'chain', keys, session: 'proxy', ...(signatures === undefined ? {} : {signatures})}))
      const oracle = await run(new InlineSignatureChecks())
      const report = JSON.parse(oracle) as {valid: boolean; failure?: {message: string; file?: string; line?: number}; actionReceipts: {count: number}}
      assert.equal(report.valid, v.valid, oracle.slice(0, 600))
      if (v.failure !== undefined) assert.match(report.failure?.message ?? '', v.failure)
      if (v.line !== undefined) assert.deepEqual([report.failure?.file, report.failure?.line], [file, v.line], oracle.slice(0, 600))
      assert.equal(await run(), oracle, 'default path (adaptive: inline, then the pool)')
      assert.equal(await run(new ParallelSignatureChecks({workers: 3, batchSize: 7, maxInFlight: 1})), oracle, '3 workers, batches of 7')
      assert.equal(await run(new AdaptiveSignatureChecks(0, {workers: 2, batchSize: 64})), oracle, 'pool from the first receipt')
    })
  })
})

describe('evidence-set verification: the failing receipt is named by file and line across files', () => {
  test('a bad signature checked on the worker pool, in the second of two files', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-verify-place-'))
    try {
      const text = lines(base.map((r, i) => (i === 1_034 ? flipSignature(r) : r)))
      const first = path.join(dir, 'a.jsonl')
      const second = path.join(dir, 'b.jsonl')
      writeFileSync(first, text.slice(0, 600).join('\n') + '\n')
      writeFileSync(second, text.slice(600).join('\n') + '\n')
      const keys = KeyRing.load({keys: [K1]})
      for (const signatures of [undefined, new ParallelSignatureChecks({workers: 2, batchSize: 5, maxInFlight: 1}), new InlineSignatureChecks()]) {
        const r = await verifyEvidenceSet({files: [first, second], label: 'chain', keys, session: 'proxy', display: (f) => path.basename(f), ...(signatures === undefined ? {} : {signatures})})
        assert.deepEqual(r.failure, {component: 'action_receipts', message: 'seq 1034: signature: signature verification failed', file: 'b.jsonl', line: 435, brokenAtSeq: '1034'})
      }
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
