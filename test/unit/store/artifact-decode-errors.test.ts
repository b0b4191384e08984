// A damaged history contract is named with the line of the damage, as the strict YAML reader
// gives it; a refusal with no line says so without a line (the store printed "line undefined").
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {decodeStoreContract} from '../../../src/plugins/store/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

function refusal(yaml: string): string {
  try {
    decodeStoreContract(yaml, 'sha256:abc')
  } catch (e) {
    assert.ok(e instanceof PipelockError, String(e))
    return e.message
  }
  assert.fail('decoded')
}

test('a history contract with a value JSON cannot carry names its line', () => {
  assert.equal(refusal('body:\n  rules: []\n  n: 1e999\nsignature: x\n'), 'contract store: contract history invalid: decode sha256:abc: line 3: yaml: unsupported float value 1e999 in signed artifact')
})

test('a refusal without a line never prints one', () => {
  for (const yaml of ['# only a comment\n', 'a: 1\n---\nb: 2\n', 'body: [\n']) {
    const m = refusal(yaml)
    assert.ok(!m.includes('undefined'), m)
    assert.match(m, /^contract store: contract history invalid: decode sha256:abc: /)
  }
})
