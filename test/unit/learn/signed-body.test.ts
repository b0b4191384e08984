import {test} from 'node:test'
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {canonicalize, CanonicalText, JsonNumber, type JsonObject, type JsonValue, type PushedItems} from '../../../src/plugins/canonical/index.js'
import {writeSignedBody} from '../../../src/plugins/learn/signed-body.js'

// The contract body written once (hash with an empty contract_hash, then the hash spliced in)
// must give the bytes and hash of canonicalising the body twice, as the contract format defines
// them; and a body beyond the reservation must give the same through the two-pass path.

function rule(i: number): JsonObject {
  // Multi-byte UTF-8, quotes and a `"contract_hash":""` look-alike inside string values.
  return new Map<string, JsonValue>([
    ['rule_id', `r-${i.toString(16).padStart(20, '0')}`],
    ['display_name', `host_${i}_ü_€_𝄞_"contract_hash":""`],
    ['rationale', 'x'.repeat(900 + (i % 97))],
  ])
}

function body(): JsonObject {
  return new Map<string, JsonValue>([
    ['schema_version', new JsonNumber('1')],
    ['contract_hash', ''],
    ['prior_contract_hash', 'sha256:' + 'a'.repeat(64)],
    ['compile', new Map<string, JsonValue>([['pipelock_version', 'v"1"'], ['go_version', 'x']])],
    ['rules', []],
    ['selector', new Map<string, JsonValue>([['agent', 'contract_hash']])],
  ])
}

/** The hash and signed bytes by the definition: canonicalise with "", hash, canonicalise again with the hash. */
function expected(rules: number): {hash: string; signed: Buffer} {
  const b = body()
  b.set('rules', Array.from({length: rules}, (_, i) => rule(i)))
  const hash = 'sha256:' + createHash('sha256').update(canonicalize(b), 'utf8').digest('hex')
  b.set('contract_hash', hash)
  return {hash, signed: Buffer.from(canonicalize(b), 'utf8')}
}

/** `pushed`: the rules pushed by a callback (a streamed read's form) instead of pulled from an Iterable. */
function written(rules: number, maxBytes: number, pushed = false): {hash: string; signature: string; signed: Buffer} {
  const b = body()
  const slot = b.get('rules') as JsonValue[]
  const items = (): CanonicalText[] => Array.from({length: rules}, (_, i) => new CanonicalText(canonicalize(rule(i))))
  const expand = (a: readonly JsonValue[]): Iterable<CanonicalText> | PushedItems | undefined =>
    a !== slot ? undefined : pushed ? (push) => items().forEach((item) => push(item)) : items()
  let signed: Buffer | undefined
  const r = writeSignedBody(b, expand, (bytes) => {
    signed = Buffer.from(bytes) // a copy: the buffer is given back once signed
    return 'sig'
  }, maxBytes)
  assert.equal(b.get('contract_hash'), '', 'the body is left with its empty hash')
  return {...r, signed: signed as Buffer}
}

test('one pass: the hash and signed bytes of two canonical passes, small and past the first 16 MiB', () => {
  for (const [rules, pushed] of [[0, false], [1, false], [40, false], [18_000, false], [0, true], [40, true], [18_000, true]] as const) {
    const want = expected(rules)
    const got = written(rules, Math.max(64 * 1024 * 1024, rules * 4096), pushed)
    assert.equal(got.hash, want.hash, `${rules} rules: hash`)
    assert.equal(got.signature, 'sig')
    assert.ok(got.signed.equals(want.signed), `${rules} rules: signed bytes`)
  }
})

test('a body beyond the reservation takes two passes to the same hash and bytes', () => {
  for (const [rules, max, pushed] of [[40, 16, false], [40, 2048, false], [3, 3000, false], [40, 2048, true]] as const) {
    const want = expected(rules)
    const got = written(rules, max, pushed)
    assert.equal(got.hash, want.hash, `${rules} rules, ${max} bytes reserved: hash`)
    assert.ok(got.signed.equals(want.signed), `${rules} rules, ${max} bytes reserved: signed bytes`)
  }
})
