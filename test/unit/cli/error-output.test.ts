import {test} from 'node:test'
import assert from 'node:assert/strict'
import {reportFailureOutsideOclif} from '../../../src/cli/error-output.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'

/** Runs `f` with stderr captured and the exit status restored afterwards. */
async function captured(f: () => Promise<void>): Promise<{stderr: string; exitCode: number | string | undefined}> {
  const write = process.stderr.write.bind(process.stderr)
  const before = process.exitCode
  let stderr = ''
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk)
    return true
  }) as typeof process.stderr.write
  try {
    await f()
    return {stderr, exitCode: process.exitCode}
  } finally {
    process.stderr.write = write
    process.exitCode = before
  }
}

test('the fast paths report an expected failure as one line, and a bug as INTERNAL (exit 70) with its stack, loading nothing', async () => {
  const expected = await captured(() => reportFailureOutsideOclif(new PipelockError('LISTEN_FAILED', 'cannot listen', {hint: 'pick a free address'})))
  assert.deepEqual(expected, {stderr: 'cannot listen [LISTEN_FAILED]; hint: pick a free address\n', exitCode: 1})
  const bug = await captured(() => reportFailureOutsideOclif(new RangeError('port out of range')))
  assert.equal(bug.exitCode, 70)
  const [line, stack] = bug.stderr.split('\n')
  assert.equal(line, 'port out of range [INTERNAL]')
  assert.match(stack!, /^RangeError: port out of range$/)
})
