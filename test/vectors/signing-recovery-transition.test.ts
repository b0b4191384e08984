import {test} from 'node:test'
import assert from 'node:assert/strict'
import {fixedClock} from '../../src/plugins/canonical/index.js'
import {inspectRecoveryAuthorization, loadRecoveryAuthorization, loadRootTransition, sha256Hex} from '../../src/plugins/signing/index.js'
import {vectorPath} from '../helpers/vectors.js'
import {NEWROOT_FP, NEWROOT_PUB, TEST1_FP, TEST1_PUB, TEST2_FP, TEST2_PUB} from '../unit/signing/test-keys.js'

const hex = (h: string): Buffer => Buffer.from(h, 'hex')
const at = (iso: string): bigint => fixedClock(iso).nowNanos()
const recovery = (): string => vectorPath('contract', 'signing', 'valid_recovery_authorization.json')
const transition = (): string => vectorPath('contract', 'signing', 'valid_root_transition.json')
const TARGET = 'sha256:' + sha256Hex('pipelock-test-recovery-target-roster-body-fixture')
const base = {recoveryPublicKey: hex(TEST2_PUB), pinnedFingerprint: TEST2_FP}

test('recovery: offline inspection succeeds anywhere in [13:00:00Z, 13:30:00Z]', () => {
  for (const t of ['2026-04-26T13:00:00Z', '2026-04-26T13:10:00Z', '2026-04-26T13:30:00Z']) {
    const r = inspectRecoveryAuthorization(recovery(), {...base, nowNanos: at(t)})
    assert.equal(r.fingerprint, TEST2_FP)
    assert.equal(r.targetVerified, false)
    assert.equal(r.body.targetRosterHash, TARGET)
    assert.equal(r.body.operatorIdentity, 'ops@example.com')
  }
})

test('recovery: runtime load binds the target roster hash', () => {
  const now = at('2026-04-26T13:10:00Z')
  assert.equal(loadRecoveryAuthorization(recovery(), {...base, nowNanos: now, expectedTargetRosterHash: TARGET}).targetVerified, true)
  assert.throws(
    () => loadRecoveryAuthorization(recovery(), {...base, nowNanos: now, expectedTargetRosterHash: 'sha256:' + 'a'.repeat(64)}),
    /target mismatch/,
  )
  assert.throws(() => loadRecoveryAuthorization(recovery(), {...base, nowNanos: now, expectedTargetRosterHash: ''}), /expectedTargetRosterHash is required/)
})

test('recovery: time window edges', () => {
  assert.throws(() => inspectRecoveryAuthorization(recovery(), {...base, nowNanos: at('2026-04-26T12:59:59Z')}), /not yet valid/)
  assert.throws(() => inspectRecoveryAuthorization(recovery(), {...base, nowNanos: at('2026-04-26T13:30:01Z')}), /expired/)
})

test('recovery: any other pin, or the test-1 key with the test-2 pin → fingerprint mismatch', () => {
  const now = at('2026-04-26T13:10:00Z')
  assert.throws(() => inspectRecoveryAuthorization(recovery(), {...base, pinnedFingerprint: TEST1_FP, nowNanos: now}), /fingerprint does not match pinned: fingerprint mismatch/)
  // wrong key: caught by the pin, before the signature is looked at
  assert.throws(
    () => inspectRecoveryAuthorization(recovery(), {recoveryPublicKey: hex(TEST1_PUB), pinnedFingerprint: TEST2_FP, nowNanos: now}),
    /recovery-root fingerprint does not match pinned: fingerprint mismatch/,
  )
})

test('transition: both signatures verify; pin empty or the old fingerprint', () => {
  for (const pinned of [undefined, '', TEST1_FP]) {
    const r = loadRootTransition(transition(), {oldPublicKey: hex(TEST1_PUB), newPublicKey: hex(NEWROOT_PUB), pinned})
    assert.equal(r.oldFingerprint, TEST1_FP)
    assert.equal(r.newFingerprint, NEWROOT_FP)
    assert.equal(r.body.rootKind, 'roster-root')
  }
})

test('transition: swapped keys and a different pin are refused', () => {
  assert.throws(() => loadRootTransition(transition(), {oldPublicKey: hex(NEWROOT_PUB), newPublicKey: hex(TEST1_PUB)}), {
    message: 'provided oldPubKey does not match body.old_fingerprint',
  })
  assert.throws(() => loadRootTransition(transition(), {oldPublicKey: hex(TEST1_PUB), newPublicKey: hex(NEWROOT_PUB), pinned: TEST2_FP}), {
    message: 'body.old_fingerprint does not match operator-pinned fingerprint',
  })
})
