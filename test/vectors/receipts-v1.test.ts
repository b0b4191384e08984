import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {
  actionReceiptHash,
  chainFilesInDir,
  encodeActionReceipt,
  EntryChainVerifier,
  extractChainItems,
  parseActionReceiptText,
  parseRecorderEntry,
  parseRotationEndorsement,
  readLines,
  sessionOpenGenesis,
  verifyActionReceipt,
  verifyChain,
  type ChainOptions,
} from '../../src/plugins/receipts/index.js'
import {fromPlain, type JsonObject} from '../../src/plugins/canonical/index.js'
import {readVector, readVectorBytes, vectorPath} from '../helpers/vectors.js'

const K1 = '4655a7e605c12ebb00a46037881c33c5bca5eb74b45a02e8e7261a7ff5a21678'
const K2 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'

async function chain(file: string, options: ChainOptions = {}) {
  const p = vectorPath('receipts', file)
  return verifyChain(extractChainItems([p]), options)
}

describe('ActionReceipt v1 vectors (receipts.md §15)', () => {
  test('valid-single.json: valid unpinned and with K1; any other pinned key fails with the Go text', () => {
    const r = parseActionReceiptText(readVector('receipts', 'valid-single.json'))
    assert.equal(verifyActionReceipt(r), undefined)
    assert.equal(verifyActionReceipt(r, K1), undefined)
    assert.equal(verifyActionReceipt(r, K2), `signer_key ${K1} does not match expected key ${K2}`)
    assert.equal(actionReceiptHash(r), '9994a67b9cb324bae8d648b5baccd5d5403600b2bc5047a40d0355a610f2dc44')
    assert.equal(Buffer.byteLength(r.recordJson), 523)
  })

  test('invalid-signature.json: signature verification failed, with or without a key', () => {
    const r = parseActionReceiptText(readVector('receipts', 'invalid-signature.json'))
    assert.equal(verifyActionReceipt(r), 'signature verification failed')
    assert.equal(verifyActionReceipt(r, K1), 'signature verification failed')
  })

  test('test-key.json is not a receipt', () => {
    assert.throws(() => parseActionReceiptText(readVector('receipts', 'test-key.json')), /unmarshal receipt: receipt carries unknown signed field\(s\)/)
  })

  test('valid-chain.jsonl: 5 receipts, final seq 4, root hash, times; with and without K1', async () => {
    for (const options of [{}, {pinnedKey: K1}]) {
      const r = await chain('valid-chain.jsonl', options)
      assert.deepEqual(r, {
        valid: true,
        receiptCount: 5,
        finalSeq: '4',
        rootHash: 'be904bd5ca82adc26c2969872c23925f22ff24e33faf44a1185b9ffc0e2c2b5a',
        startTime: '2026-04-15T12:00:00Z',
        endTime: '2026-04-15T12:00:04Z',
      })
    }
  })

  test('broken-chain.jsonl: broken at seq 3 with chain_prev_hash mismatch; every receipt valid on its own', async () => {
    const r = await chain('broken-chain.jsonl')
    assert.equal(r.valid, false)
    assert.equal(r.error, 'seq 3: chain_prev_hash mismatch')
    assert.equal(r.brokenAtSeq, '3')
    let n = 0
    for await (const item of extractChainItems([vectorPath('receipts', 'broken-chain.jsonl')])) {
      assert.equal(item.kind, 'receipt')
      if (item.kind === 'receipt') assert.equal(verifyActionReceipt(item.receipt), undefined)
      n++
    }
    assert.equal(n, 5)
  })

  test('entry hash chains recompute (§7.2) for every recorder vector, including the worked example', async () => {
    for (const file of ['valid-chain.jsonl', 'broken-chain.jsonl', 'synthetic/synthetic-v1-session-rotation.jsonl']) {
      const v = new EntryChainVerifier()
      let first: string | undefined
      for await (const line of readLines(vectorPath('receipts', file))) {
        if ((line.text ?? '').trim() === '') continue
        const e = parseRecorderEntry(line.text as string)
        first ??= e.hash
        assert.equal(v.push(e), undefined, `${file} line ${line.number}`)
      }
      if (file === 'valid-chain.jsonl') assert.equal(first, 'ab31a9b53825eb93999d31a199339e8e56ca3d9a3fc8277643c055bef5930082')
    }
  })
})

describe('synthetic vectors (receipts.md §15)', () => {
  test('synthetic-v1-rich: canonical record and receipt bytes equal the .bin files; valid with K1', () => {
    const r = parseActionReceiptText(readVector('receipts', 'synthetic', 'synthetic-v1-rich.json'))
    assert.equal(r.recordJson, readVectorBytes('receipts', 'synthetic', 'synthetic-v1-rich.canonical-action-record.bin').toString('utf8'))
    assert.equal(encodeActionReceipt(r), readVectorBytes('receipts', 'synthetic', 'synthetic-v1-rich.canonical-receipt.bin').toString('utf8'))
    assert.equal(verifyActionReceipt(r, K1), undefined)
  })

  const endorsementFile = () => [parseRotationEndorsement(readVectorBytes('receipts', 'synthetic', 'synthetic-v1-session-rotation.endorsement.json'))]

  test('session rotation with endorsement: valid, 6 receipts, final seq 2, root, times', async () => {
    const r = await chain('synthetic/synthetic-v1-session-rotation.jsonl', {pinnedKey: K1, sessionId: 'proxy', endorsements: endorsementFile()})
    assert.deepEqual(r, {
      valid: true,
      receiptCount: 6,
      finalSeq: '2',
      rootHash: '70d537170ba0f5b7f9bb130ae8191bef9ce254104062234f19d043c2b232e285',
      startTime: '2026-04-15T12:00:00Z',
      endTime: '2026-04-15T12:01:02Z',
    })
  })

  test('session rotation without the endorsement: broken at seq 0', async () => {
    const r = await chain('synthetic/synthetic-v1-session-rotation.jsonl', {pinnedKey: K1, sessionId: 'proxy'})
    assert.equal(r.valid, false)
    assert.equal(r.brokenAtSeq, '0')
    assert.match(r.error ?? '', /rotation endorsement does not match receipt boundary/)
  })

  test('session rotation bound to another session: refused before the loop', async () => {
    const r = await chain('synthetic/synthetic-v1-session-rotation.jsonl', {pinnedKey: K1, sessionId: 'other', endorsements: endorsementFile()})
    assert.equal(r.valid, false)
    assert.equal(r.error, "signed recorder session 'proxy' does not match endorsement session 'other'")
  })

  test('the first receipt carries the documented g1 genesis', async () => {
    for await (const item of extractChainItems([vectorPath('receipts', 'synthetic', 'synthetic-v1-session-rotation.jsonl')])) {
      assert.equal(item.kind, 'receipt')
      if (item.kind !== 'receipt') return
      const open = (item.receipt.record.get('session_control') as JsonObject).get('open') as JsonObject
      assert.equal(sessionOpenGenesis(open), 'g1:0c751cd7e86179376e8519b5ef222713bbf1499a61fff62866adb8d839de50e9')
      assert.equal(item.receipt.record.get('chain_prev_hash'), sessionOpenGenesis(open))
      break
    }
  })

  test('endorsement file parses and verifies under its prior key', () => {
    const [e] = endorsementFile()
    assert.equal(e?.priorSignerKey, K1)
    assert.equal(e?.newSignerKey, 'bc73a1170035cbad9d6811a809388802cba1bcfeb7f183134ff68b4f9835623f')
    assert.equal(e?.priorFinalSeq, 2n)
  })
})

test('session-open genesis worked example (receipts.md §6.5.1)', () => {
  const open = fromPlain({
    run_nonce: 'run-nonce-aaaa',
    open_nonce: 'open-nonce-bbbb',
    recorder_session: 'rec-sess-cccc',
    policy_hash: 'policy-hash-dddd',
    signer_key_epoch: 'epoch-3',
    heartbeat_seconds: 60,
    genesis_anchor_head: 'anchor-head-eeee',
    genesis_anchor_log: 'anchor-log-ffff',
    posture_capsule_sha256: 'capsule-sha-0000',
    containment_nonce: 'contain-nonce-1111',
    contained_uid: '966',
  }) as JsonObject
  assert.equal(sessionOpenGenesis(open), 'g1:4e3d35d36683d6d5c65e427b447ada0d2e9098befff7caad954972bdadd405ec')
})

test('chain files in a directory are ordered by their numeric suffix, symlinks and other sessions ignored', async (t) => {
  const {mkdtempSync, writeFileSync, symlinkSync} = await import('node:fs')
  const {tmpdir} = await import('node:os')
  const path = await import('node:path')
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-chain-'))
  t.after(async () => (await import('node:fs')).rmSync(dir, {recursive: true, force: true}))
  for (const n of ['10', '2', '0']) writeFileSync(path.join(dir, `evidence-proxy-${n}.jsonl`), '')
  writeFileSync(path.join(dir, 'evidence-other-1.jsonl'), '')
  symlinkSync(path.join(dir, 'evidence-proxy-0.jsonl'), path.join(dir, 'evidence-proxy-5.jsonl'))
  const files = (await chainFilesInDir(dir, 'proxy')).map((f) => path.basename(f))
  assert.deepEqual(files, ['evidence-proxy-0.jsonl', 'evidence-proxy-2.jsonl', 'evidence-proxy-10.jsonl'])
  readFileSync // keep import used
})
