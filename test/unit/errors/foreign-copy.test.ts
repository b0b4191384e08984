import assert from 'node:assert/strict'
import {test} from 'node:test'
import {isPipelockError, PipelockError} from '../../../src/plugins/errors/index.js'

// A plugin loaded from dist/src beside a bundle that holds its own copy of the errors module
// throws PipelockErrors of another class: they are expected failures all the same (one line, the
// registry's exit status), never reported as INTERNAL with a stack.
class OtherCopy extends Error {
  readonly code = 'SANDBOX_POLICY'
  readonly exitCode = 1
  constructor(message: string) {
    super(message)
    this.name = 'PipelockError'
  }
}

test('isPipelockError knows a PipelockError of another copy of the module by its name and a registered code', () => {
  assert.ok(isPipelockError(new PipelockError('USAGE', 'x')))
  assert.ok(isPipelockError(new OtherCopy('sandbox workspace does not exist: /x')))
  const unregistered = Object.assign(new OtherCopy('x'), {code: 'NOT_A_CODE'})
  assert.ok(!isPipelockError(unregistered))
  assert.ok(!isPipelockError(Object.assign(new Error('x'), {code: 'USAGE', exitCode: 2})), 'a plain Error with a code is no PipelockError')
  assert.ok(!isPipelockError(null))
})
