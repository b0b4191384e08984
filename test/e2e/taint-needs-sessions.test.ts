import {test} from 'node:test'
import assert from 'node:assert/strict'
import {startProxy} from './proxy-harness.js'

// Taint lives in the session recorder (policy-extra §1): a config that sets a taint section with
// session profiling off starts, and `pipelock run` says at start that the section has no effect
// instead of taking it without a word.

const WARNING = 'WARNING: taint: has no effect while session_profiling.enabled is false (taint is tracked per session); enable session_profiling'

test('pipelock run names a taint section that session profiling does not carry', async () => {
  const off = await startProxy('taint:\n  policy: strict\n  protected_paths: ["*/deploy/*"]\n')
  try {
    assert.ok(off.stderr().split('\n').includes(WARNING), off.stderr())
  } finally {
    assert.equal(await off.stop(), 0)
  }
  const on = await startProxy('taint:\n  policy: strict\nsession_profiling:\n  enabled: true\n')
  try {
    assert.ok(!on.stderr().includes('WARNING: taint:'), on.stderr())
  } finally {
    assert.equal(await on.stop(), 0)
  }
})
