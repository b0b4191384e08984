import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  actionReceiptHash,
  ChainPrecheck,
  ChainVerifier,
  type SignatureFailure,
  parseActionReceiptTree,
  ReceiptChainBuilder,
  signActionReceipt,
  type ActionReceipt,
  type ChainItem,
  type ChainOptions,
  type ChainResult,
  type RotationEndorsement,
} from '../../../src/plugins/receipts/index.js'
import {fromPlain, JsonNumber, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {verifyBytes, type Ed25519KeyPair} from '../../../src/plugins/signing/index.js'
import {action, K1, keyA, keyB, run, SYNTHETIC_IDENTITY} from '../../helpers/receipt-fixtures.js'

const item = (receipt: ActionReceipt): ChainItem => ({kind: 'receipt', receipt, hasRecordObject: true})

function verify(receipts: (ActionReceipt | ChainItem)[], options: ChainOptions = {}): ChainResult {
  const items = receipts.map((r) => ('kind' in r ? r : item(r)))
  const pre = new ChainPrecheck(options)
  items.forEach((i) => pre.observe(i))
  const failed = pre.result()
  if (failed) return failed
  const v = new ChainVerifier(options)
  // the signature checks the verifier leaves to its caller, run inline: stop at the first failure
  let failure: SignatureFailure | undefined
  for (const i of items) {
    if (!v.push(i)) break
    const p = v.pendingCheck
    if (p !== undefined && !verifyBytes(p.check.publicKey, p.check.digest, p.check.signature)) {
      failure = {index: p.index, label: p.seq}
      break
    }
  }
  return v.finish(failure)
}

/** Re-signs `r` after changing record fields (values given as plain data). */
function resign(r: ActionReceipt, changes: Record<string, unknown>, key: Ed25519KeyPair = keyA()): ActionReceipt {
  const rec = new Map(r.record) as JsonObject
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) rec.delete(k)
    else rec.set(k, fromPlain(v) as JsonValue)
  }
  return signActionReceipt(rec, key)
}

function nested(r: ActionReceipt, path: string[], value: unknown, key: Ed25519KeyPair = keyA()): ActionReceipt {
  const clone = (o: JsonObject): JsonObject => new Map([...o].map(([k, v]) => [k, v instanceof Map ? clone(v) : v]))
  const rec = clone(r.record)
  let o = rec
  for (const p of path.slice(0, -1)) o = o.get(p) as JsonObject
  o.set(path[path.length - 1] as string, fromPlain(value) as JsonValue)
  return signActionReceipt(rec, key)
}

const ctl = (n: string, ts: string) => ({actionId: n, timestamp: ts, ...SYNTHETIC_IDENTITY})
const ts = (s: number) => `2026-04-15T12:00:${String(s).padStart(2, '0')}Z`

function legacy(n: number, key = keyA()): ActionReceipt[] {
  const b = new ReceiptChainBuilder(key)
  return Array.from({length: n}, (_, i) => b.append(action(`a-${i}`, ts(i), 'read')))
}

function session(): {b: ReceiptChainBuilder; rs: ActionReceipt[]} {
  const b = new ReceiptChainBuilder(keyA())
  const rs = [b.openRun(run(1, 'e1'), ctl('open', ts(0))), b.append(action('r1', ts(1), 'read')), b.heartbeat(ctl('hb', ts(2)))]
  return {b, rs}
}

describe('legacy linear chains', () => {
  test('valid chain reports count, final seq, root hash and times', () => {
    const rs = legacy(3)
    const r = verify(rs)
    assert.equal(r.valid, true)
    assert.equal(r.receiptCount, 3)
    assert.equal(r.finalSeq, '2')
    assert.equal(r.startTime, ts(0))
    assert.equal(r.endTime, ts(2))
  })

  test('dropping a receipt is a seq gap at the next one', () => {
    const rs = legacy(4)
    assert.deepEqual(verify([rs[0]!, rs[1]!, rs[3]!]), {valid: false, receiptCount: 2, error: 'seq gap: expected 2, got 3', brokenAtSeq: '3', brokenAtIndex: 2})
  })

  test('reordering breaks the hash link', () => {
    const rs = legacy(3)
    const r = verify([rs[0]!, resign(rs[2]!, {chain_seq: 1})])
    assert.equal(r.error, 'seq 1: chain_prev_hash mismatch')
  })

  test('a receipt spliced in under another key is refused even if its own signature is fine', () => {
    const rs = legacy(3)
    const forged = resign(rs[2]!, {}, keyB())
    const r = verify([rs[0]!, rs[1]!, forged])
    assert.match(r.error ?? '', /^seq 2: signature: signer_key bc73\w+ does not match expected key 4655\w+$/)
  })

  test('pinned key other than the signer fails at seq 0', () => {
    const r = verify(legacy(2, keyB()), {pinnedKey: K1})
    assert.equal(r.brokenAtSeq, '0')
    assert.match(r.error ?? '', /^seq 0: signature: signer_key bc73/)
  })

  test('first receipt must be seq 0, and seq 0 later needs a key_transition', () => {
    const rs = legacy(3)
    assert.equal(verify([rs[1]!]).error, 'seq 1: root receipt segment must start at chain_seq 0')
    assert.equal(verify([rs[0]!, resign(rs[1]!, {chain_seq: 0})]).error, 'seq 0: unexpected seq 0 without a key_transition boundary')
    const marker = resign(rs[0]!, {key_transition: {prior_signer_key: K1, prior_chain_seq: 0, prior_chain_hash: ''}})
    assert.equal(verify([marker]).error, 'seq 0: chain starts at a key_transition segment without the prior segment')
  })

  test('a missing action_record is found by the pre-check before any signature failure', () => {
    const rs = legacy(4)
    const bad = resign(rs[1]!, {target: 'x'}, keyB())
    const r = verify([rs[0]!, bad, rs[2]!, {kind: 'receipt', receipt: rs[3]!, hasRecordObject: false}])
    assert.deepEqual(r, {valid: false, receiptCount: 4, error: 'seq 3: missing or invalid action_record', brokenAtSeq: '3', brokenAtIndex: 3})
  })

  test('an EvidenceReceipt v2 line cannot be part of a v1 chain', () => {
    const r = verify([legacy(1)[0]!, {kind: 'evidence_v2', chainSeq: '7'}])
    assert.equal(r.error, 'v2 chain verification is not implemented; verify v2 receipts individually with verify_evidence()')
    assert.equal(r.brokenAtSeq, '7')
  })

  test('an empty chain is valid with zero receipts (the CLI turns this into a failure)', () => {
    assert.deepEqual(verify([]), {valid: true, receiptCount: 0})
  })
})

describe('session control (receipts.md §6.5)', () => {
  test('open, receipt, heartbeat, close verify', () => {
    const {b, rs} = session()
    rs.push(b.closeRun(ctl('close', ts(3))))
    const r = verify(rs)
    assert.equal(r.valid, true, r.error)
    assert.equal(r.receiptCount, 4)
  })

  test('bound genesis checks', () => {
    const {rs} = session()
    assert.equal(verify([resign(rs[0]!, {chain_prev_hash: 'genesis'})]).error, 'seq 0: session_open on legacy genesis must use bound g1 chain_prev_hash')
    assert.equal(verify([nested(rs[0]!, ['session_control', 'open', 'signer_key_epoch'], 'other')]).error, 'seq 0: session_open genesis hash mismatch')
    assert.equal(verify([nested(rs[0]!, ['session_control', 'open', 'genesis_hash'], 'g1:00')]).error, 'seq 0: session_open genesis_hash mismatch')
    const legacyWithRun = resign(legacy(1)[0]!, {run_nonce: 'r'})
    assert.equal(verify([legacyWithRun]).error, 'seq 0: run_nonce first receipt is not a matching session_open')
    const g1NoOpen = resign(legacy(1)[0]!, {chain_prev_hash: 'g1:' + '0'.repeat(64)})
    assert.equal(verify([g1NoOpen]).error, 'seq 0: g1 chain_prev_hash requires SessionControl.Open')
  })

  test('heartbeat must commit to the previous receipt', () => {
    const {rs} = session()
    rs[2] = nested(rs[2]!, ['session_control', 'heartbeat', 'chain_head'], '0'.repeat(64))
    assert.equal(verify(rs).error, 'seq 2: heartbeat chain_head mismatch')
    const s2 = session()
    s2.rs[2] = nested(s2.rs[2]!, ['session_control', 'heartbeat', 'chain_seq_head'], 5)
    assert.equal(verify(s2.rs).error, 'seq 2: heartbeat chain_seq_head mismatch')
    const s3 = session()
    s3.rs[2] = nested(s3.rs[2]!, ['session_control', 'heartbeat', 'open_nonce'], 'other')
    assert.equal(verify(s3.rs).error, 'seq 2: heartbeat open_nonce does not match session_open')
  })

  test('close commits to final seq, root hash and receipt count; nothing may follow it', () => {
    const mk = () => {
      const {b, rs} = session()
      rs.push(b.closeRun(ctl('close', ts(3))))
      return {b, rs}
    }
    const a = mk()
    a.rs[3] = nested(a.rs[3]!, ['session_control', 'close', 'receipt_count'], 9)
    assert.equal(verify(a.rs).error, 'seq 3: session_close receipt_count mismatch')
    const c = mk()
    c.rs[3] = nested(c.rs[3]!, ['session_control', 'close', 'final_seq'], 2)
    assert.equal(verify(c.rs).error, 'seq 3: session_close final_seq mismatch')
    const d = mk()
    d.rs.push(d.b.append({...action('late', ts(4), 'read'), run_nonce: 'run-nonce-synthetic-1'}))
    // the builder drops run_nonce after close; a late receipt that claims the closed run is refused
    d.rs[4] = resign(d.rs[4]!, {run_nonce: 'run-nonce-synthetic-1'})
    assert.equal(verify(d.rs).error, 'seq 4: record observed after session_close')
  })

  test('a restart carries the prior tail; a reused run nonce is a duplicate', () => {
    const {b, rs} = session()
    rs.push(b.closeRun(ctl('close', ts(3))))
    rs.push(b.openRun(run(2, 'e2'), ctl('open2', ts(4))))
    assert.equal(verify(rs).valid, true)
    const bad = nested(rs[4]!, ['session_control', 'open', 'prior_chain_head'], '1'.repeat(64))
    assert.equal(verify([...rs.slice(0, 4), bad]).error, 'seq 4: session_open prior_chain_head does not match prior tail hash')
    const s = session()
    s.rs.push(s.b.closeRun(ctl('close', ts(3))))
    s.rs.push(s.b.openRun(run(1, 'e1'), ctl('open-again', ts(4))))
    assert.equal(verify(s.rs).error, 'seq 4: duplicate session_open for run_nonce')
  })

  test('control receipt without run_nonce is refused', () => {
    const {rs} = session()
    rs[2] = resign(rs[2]!, {run_nonce: undefined})
    assert.equal(verify(rs).error, 'seq 2: session_control receipt missing run_nonce')
  })
})

describe('key rotation (receipts.md §6.6, §10)', () => {
  function rotated(): {rs: ActionReceipt[]; e: RotationEndorsement} {
    const {b, rs} = session()
    const e = b.rotateKey(keyB(), '2026-04-15T12:01:00Z', 'proxy')
    rs.push(b.openRun(run(2, 'e2'), ctl('open2', ts(10))), b.append(action('w', ts(11), 'write')))
    return {rs, e}
  }
  const opts = (e: RotationEndorsement[]): ChainOptions => ({pinnedKey: K1, sessionId: 'proxy', endorsements: e})

  test('valid with its endorsement; final seq is the new segment\'s', () => {
    const {rs, e} = rotated()
    const r = verify(rs, opts([e]))
    assert.equal(r.valid, true, r.error)
    assert.equal(r.receiptCount, 5)
    assert.equal(r.finalSeq, '1')
  })

  test('refused without the endorsement, with a duplicated one, and with an unused one', () => {
    const {rs, e} = rotated()
    assert.equal(verify(rs, {pinnedKey: K1}).error, 'seq 0: rotation endorsement does not match receipt boundary')
    assert.equal(verify(rs, opts([e, e])).error, 'seq 0: multiple rotation endorsements match one receipt boundary')
    const unrelated = {...e, priorFinalSeq: 99n}
    assert.equal(verify(rs, opts([e, unrelated])).error, 'unused rotation endorsement does not match a required boundary')
  })

  test('endorsements require a pinned key and a session id', () => {
    const {rs, e} = rotated()
    assert.equal(verify(rs, {endorsements: [e], sessionId: 'proxy'}).error, 'rotation endorsement verification requires at least one trusted root key')
    assert.equal(verify(rs, {endorsements: [e], pinnedKey: K1, sessionId: ' '}).error, 'rotation endorsement verification requires a recorder session ID')
  })

  test('a marker that lies about the prior segment is refused', () => {
    const {rs, e} = rotated()
    const bad = nested(rs[3]!, ['key_transition', 'prior_chain_seq'], 1, keyB())
    assert.equal(verify([...rs.slice(0, 3), bad], opts([e])).error, 'seq 0: key_transition prior_chain_seq does not match prior segment final seq')
    const bad2 = nested(rs[3]!, ['key_transition', 'prior_signer_key'], 'ab'.repeat(32), keyB())
    assert.equal(verify([...rs.slice(0, 3), bad2], opts([e])).error, 'seq 0: key_transition prior_signer_key does not match prior segment key')
  })

  test('found endorsements (a recorder directory\'s): used where a boundary needs one, reported where none does', () => {
    const {rs, e} = rotated()
    const found = verify(rs, {pinnedKey: K1, sessionId: 'proxy', found: [e]})
    assert.equal(found.valid, true, found.error)
    assert.equal(found.unusedFound, undefined)
    // a found one that matches no boundary is no error, unlike a named one (§6.6)
    const unrelated = {...e, priorFinalSeq: 99n}
    assert.deepEqual(verify(rs, {pinnedKey: K1, sessionId: 'proxy', found: [e, unrelated]}).unusedFound, [1])
    assert.deepEqual(verify(rs.slice(0, 3), {pinnedKey: K1, sessionId: 'proxy', found: [e]}).unusedFound, [0])
    // named and found the same: two matches
    assert.equal(verify(rs, {...opts([e]), found: [e]}).error, 'seq 0: multiple rotation endorsements match one receipt boundary')
    // trusted only from a pinned key: without one they are not offered, and the boundary says so
    const unpinned = verify(rs, {sessionId: 'proxy', found: [e]})
    assert.equal(unpinned.error, 'seq 0: rotation endorsement does not match receipt boundary')
    assert.equal(unpinned.unendorsedBoundary, true)
  })

  test('resumed after a retention cut that removed the whole old segment: the pinned key hands over through the endorsement', () => {
    const {rs, e} = rotated()
    const open = (rs[3]!.record.get('session_control') as JsonObject).get('open') as JsonObject
    const resume = {seq: 0n, prevHash: actionReceiptHash(rs[3]!), run: {runNonce: open.get('run_nonce') as string, openNonce: open.get('open_nonce') as string}}
    const tail = rs.slice(4)
    for (const how of [{endorsements: [e]}, {found: [e]}]) {
      const r = verify(tail, {pinnedKey: K1, sessionId: 'proxy', resume, ...how})
      assert.equal(r.valid, true, r.error)
      assert.deepEqual(r.resumedUnder, {key: e.newSignerKey, via: [0]})
    }
    // without it, the new key is not the pinned one
    assert.match(verify(tail, {pinnedKey: K1, sessionId: 'proxy', resume}).error ?? '', /^seq 1: signature: signer_key bc73\w+ does not match expected key 4655/)
    // pinned to the new key, the endorsement links nothing: named, it is unused (§6.6); found, reported
    const kb = e.newSignerKey
    assert.equal(verify(tail, {pinnedKey: kb, sessionId: 'proxy', resume, endorsements: [e]}).error, 'unused rotation endorsement does not match a required boundary')
    assert.deepEqual(verify(tail, {pinnedKey: kb, sessionId: 'proxy', resume, found: [e]}).unusedFound, [0])
  })

  test('after rotation the old key can no longer sign', () => {
    const {rs, e} = rotated()
    const old = resign(rs[4]!, {}, keyA())
    assert.match(verify([...rs.slice(0, 4), old], opts([e])).error ?? '', /^seq 1: signature: signer_key 4655\w+ does not match expected key bc73/)
  })
})

test('ChainItem receipts parsed from trees behave like built ones', () => {
  const [r] = legacy(1)
  const tree = fromPlain({version: 1, action_record: r!.record, signature: r!.signature, signer_key: r!.signerKey})
  const again = parseActionReceiptTree(tree)
  assert.equal(again.recordJson, r!.recordJson)
  assert.ok(again.record.get('chain_seq') instanceof JsonNumber)
})
