import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {
  actionReceiptHash,
  encodeActionReceipt,
  parseActionReceiptText,
  signActionReceipt,
  verifyActionReceipt,
  verifyReceipt,
  ReceiptValidationError,
} from '../../../src/plugins/receipts/index.js'
import {fromPlain} from '../../../src/plugins/canonical/index.js'
import {action, K1, keyA, keyB} from '../../helpers/receipt-fixtures.js'

function signed(extra: Record<string, unknown> = {}) {
  return signActionReceipt(fromPlain({version: 1, delegation_chain: null, chain_prev_hash: 'genesis', chain_seq: 0, ...action('a-1', '2026-04-15T12:00:00Z', 'read'), ...extra}), keyA())
}

/** The receipt as JSON text, with `mutate` applied to a plain copy. */
function textOf(mutate: (r: any) => void = () => {}): string {
  const r = JSON.parse(encodeActionReceipt(signed()))
  mutate(r)
  return JSON.stringify(r)
}

describe('parse: strict shape (receipts.md §4.4)', () => {
  const cases: [string, string, RegExp][] = [
    ['duplicate key', textOf().replace('{"version":1,', '{"version":1,"version":1,'), /unmarshal receipt: duplicate key "version"/],
    ['unknown top-level key', textOf((r) => (r.extra = 1)), /unmarshal receipt: receipt carries unknown signed field\(s\): \['extra'\]/],
    ['unknown record keys, sorted', textOf((r) => Object.assign(r.action_record, {zz: 1, aa: 2})), /action_record carries unknown signed field\(s\): \['aa', 'zz'\]/],
    ['unknown key in redaction', textOf((r) => (r.action_record.redaction = {bogus: 1})), /redaction carries unknown signed field\(s\): \['bogus'\]/],
    ['string field given a number', textOf((r) => (r.action_record.target = 5)), /action_record\.target: expected string, got number/],
    ['float for uint64', textOf((r) => (r.action_record.chain_seq = 1.5)), /chain_seq: expected uint64/],
    ['1.0 is not an integer', textOf().replace('"chain_seq":0', '"chain_seq":1.0'), /chain_seq: expected uint64/],
    ['negative uint64', textOf((r) => (r.action_record.chain_seq = -1)), /out of range for uint64/],
    // Go reads uint64 with strconv.ParseUint, which refuses any sign: -0 is not 0 there
    ['-0 for uint64', textOf().replace('"chain_seq":0', '"chain_seq":-0'), /^ReceiptParseError: unmarshal receipt: action_record\.chain_seq: -0 out of range for uint64$/],
    ['-0 for a nested uint64', textOf((r) => (r.action_record.key_transition = {prior_signer_key: K1, prior_chain_seq: 0, prior_chain_hash: 'x'})).replace('"prior_chain_seq":0', '"prior_chain_seq":-0'), /key_transition\.prior_chain_seq: -0 out of range for uint64/],
    ['-0 for uint8', textOf((r) => (r.action_record.recent_taint_sources = [{url: 'u', kind: 'k', level: 0, timestamp: '2026-01-01T00:00:00Z'}])).replace('"level":0', '"level":-0'), /level: -0 out of range for uint8/],
    ['level above 255', textOf((r) => (r.action_record.recent_taint_sources = [{url: 'u', kind: 'k', level: 256, timestamp: '2026-01-01T00:00:00Z'}])), /out of range for uint8/],
    ['bad timestamp', textOf((r) => (r.action_record.timestamp = '2026-02-30T00:00:00Z')), /unmarshal receipt: .*day out of range/],
    ['lowercase t in timestamp', textOf((r) => (r.action_record.timestamp = '2026-01-01t00:00:00Z')), /unmarshal receipt: .*not RFC 3339/],
    ['ten fractional digits', textOf((r) => (r.action_record.timestamp = '2026-01-01T00:00:00.1234567891Z')), /unmarshal receipt/],
    ['session_control unknown kind', textOf((r) => (r.action_record.session_control = {kind: 'nope'})), /unknown session_control kind/],
    ['session_control kind/payload mismatch', textOf((r) => (r.action_record.session_control = {kind: 'heartbeat', close: {}})), /must carry exactly one heartbeat payload/],
    ['not JSON', '{"version":', /unmarshal receipt: unexpected end of JSON input/],
    ['not an object', '[1,2]', /unmarshal receipt: receipt is not a JSON object/],
  ]
  for (const [name, text, re] of cases) {
    test(name, () => assert.throws(() => parseActionReceiptText(text), re))
  }

  test('nesting deeper than 128 is refused', () => {
    const deep = '['.repeat(200) + ']'.repeat(200)
    assert.throws(() => parseActionReceiptText(textOf().replace('"delegation_chain":null', `"delegation_chain":${deep}`)), /exceeded max depth of 128/)
  })
})

describe('verify: order of checks and Go error texts (receipts.md §5.3)', () => {
  const check = (mutate: (r: any) => void, pinned?: string) => verifyActionReceipt(parseActionReceiptText(textOf(mutate)), pinned)
  const cases: [string, (r: any) => void, string][] = [
    ['missing version', (r) => delete r.version, 'unsupported receipt version 0 (expected 1)'],
    ['version 2', (r) => (r.version = 2), 'unsupported receipt version 2 (expected 1)'],
    ['record version 2', (r) => (r.action_record.version = 2), 'invalid action record: unsupported action record version 2 (expected 1)'],
    ['empty action_id', (r) => (r.action_record.action_id = ''), 'invalid action record: action_id is required'],
    ['bad action_type', (r) => (r.action_record.action_type = 'steal'), 'invalid action record: invalid action_type "steal"'],
    ['empty action_type', (r) => (r.action_record.action_type = ''), 'invalid action record: invalid action_type ""'],
    ['zero timestamp', (r) => (r.action_record.timestamp = '0001-01-01T00:00:00Z'), 'invalid action record: timestamp is required'],
    ['missing target', (r) => delete r.action_record.target, 'invalid action record: target is required'],
    ['missing verdict', (r) => (r.action_record.verdict = ''), 'invalid action record: verdict is required'],
    ['missing transport', (r) => (r.action_record.transport = ''), 'invalid action record: transport is required'],
    ['no signature', (r) => (r.signature = ''), 'receipt has no signature'],
    ['no signer_key', (r) => (r.signer_key = ''), 'receipt has no signer_key'],
    ['bad hex key', (r) => (r.signer_key = 'zz' + K1.slice(2)), 'decoding signer_key: encoding/hex: invalid byte: U+007A \'z\''],
    ['odd hex key', (r) => (r.signer_key = K1.slice(1)), 'decoding signer_key: encoding/hex: odd length hex string'],
    ['short key', (r) => (r.signer_key = K1.slice(0, 62)), 'invalid signer_key length: got 31, want 32'],
    ['no prefix', (r) => (r.signature = r.signature.slice(8)), 'invalid signature format: missing ed25519: prefix'],
    ['prefix only', (r) => (r.signature = 'ed25519:'), 'invalid signature format: missing ed25519: prefix'],
    ['bad sig hex', (r) => (r.signature = 'ed25519:xy'), "decoding signature: encoding/hex: invalid byte: U+0078 'x'"],
    ['short sig', (r) => (r.signature = r.signature.slice(0, 100)), 'invalid signature length: got 46, want 64'],
    ['tampered field', (r) => (r.action_record.target = 'https://evil.example/'), 'signature verification failed'],
  ]
  for (const [name, mutate, want] of cases) test(name, () => assert.equal(check(mutate), want))

  test('pinned key comparison is exact (uppercase hex is a different key string)', () => {
    assert.equal(check(() => {}, K1), undefined)
    assert.equal(check(() => {}, K1.toUpperCase()), `signer_key ${K1} does not match expected key ${K1.toUpperCase()}`)
  })

  test('a pinned key with a name (read from a file) is named, not echoed, in the mismatch', () => {
    const r = parseActionReceiptText(textOf())
    const other = 'ab'.repeat(32)
    assert.equal(verifyActionReceipt(r, other, 'sha256:1234 (the key in k.pub)'), `signer_key ${K1} does not match expected key sha256:1234 (the key in k.pub)`)
    // the name only words the error: the comparison is still against the key
    assert.equal(verifyActionReceipt(r, K1, 'sha256:1234 (the key in k.pub)'), undefined)
  })

  test('unsigned ext changes the receipt hash but not the signature', () => {
    const plain = parseActionReceiptText(textOf())
    const withExt = parseActionReceiptText(textOf().replace(/}$/, ',"ext": { "note" : "a<b", "n": 1e+06 }}'))
    assert.equal(verifyActionReceipt(withExt), undefined)
    assert.notEqual(actionReceiptHash(withExt), actionReceiptHash(plain))
    assert.match(encodeActionReceipt(withExt), /,"ext":\{"note":"a\\u003cb","n":1e\+06\}\}$/)
  })

  test('non-canonical timestamp spellings are normalised before hashing, as Go does', () => {
    const r = signed({timestamp: '2026-04-15T12:00:00.120+00:00'})
    assert.equal(r.record.get('timestamp'), '2026-04-15T12:00:00.12Z')
    // the same instant spelled differently still verifies; a different instant does not
    assert.equal(verifyActionReceipt(parseActionReceiptText(textOf((x) => (x.action_record.timestamp = '2026-04-15T12:00:00.000+00:00')))), undefined)
    assert.equal(verifyActionReceipt(parseActionReceiptText(textOf((x) => (x.action_record.timestamp = '2026-04-15T12:00:00.001Z')))), 'signature verification failed')
  })
})

describe('signActionReceipt', () => {
  test('refuses an invalid record instead of signing it', () => {
    assert.throws(() => signed({action_type: 'steal'}), ReceiptValidationError)
    assert.throws(() => signed({bogus: true}), /unknown signed field/)
  })

  test('another key verifies only unpinned; pinning names both keys', () => {
    const r = signActionReceipt(fromPlain({version: 1, chain_prev_hash: 'genesis', chain_seq: 0, ...action('b', '2026-04-15T12:00:00Z', 'write')}), keyB())
    assert.equal(verifyActionReceipt(r), undefined)
    assert.match(verifyActionReceipt(r, K1) ?? '', /^signer_key bc73a117\w+ does not match expected key 4655a7e6\w+$/)
  })

  test('uint64 values beyond 2^53 survive unchanged', () => {
    const r = signed({contract_generation: fromPlain(18446744073709551615n)})
    assert.match(r.recordJson, /"contract_generation":18446744073709551615/)
    assert.equal(verifyActionReceipt(parseActionReceiptText(encodeActionReceipt(r))), undefined)
  })
})

describe('verifyReceipt (public API)', () => {
  test('valid, pinned mismatch, and unparsable input never throw', () => {
    const text = textOf()
    assert.deepEqual(
      {...verifyReceipt(text, {key: K1}), receipt: undefined},
      {valid: true, receipt: undefined, receiptHash: actionReceiptHash(parseActionReceiptText(text))},
    )
    assert.match(verifyReceipt(text, {key: 'ab'.repeat(32)}).error ?? '', /does not match expected key/)
    assert.deepEqual(verifyReceipt('{"version":'), {valid: false, error: 'unmarshal receipt: unexpected end of JSON input at line 1, column 12'})
  })
})
