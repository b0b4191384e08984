import assert from 'node:assert/strict'
import {test} from 'node:test'
import {unsignedTailText} from '../../../src/plugins/audit/evidence-set.js'

test('the unsigned-tail warning agrees in number with the entries it names', () => {
  assert.equal(unsignedTailText({entries: 1n, firstSeq: '6', lastSeq: '6'}, '5'),
    'the last 1 entry (entry seq 6) comes after the last signed checkpoint (entry seq 5): no signature covers it, so nothing shows it was not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint)')
  assert.equal(unsignedTailText({entries: 2n, firstSeq: '4', lastSeq: '5'}, '3'),
    'the last 2 entries (entry seq 4-5) come after the last signed checkpoint (entry seq 3): no signature covers them, so nothing shows they were not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint)')
  assert.equal(unsignedTailText({entries: 1n, firstSeq: '0', lastSeq: '0'}, undefined),
    'no verified checkpoint signature covers the 1 entry (entry seq 0): nothing but the entry chain, which has no key, shows it was not rewritten')
  assert.equal(unsignedTailText({entries: 4n, firstSeq: '0', lastSeq: '3'}, undefined),
    'no verified checkpoint signature covers any of the 4 entries (entry seq 0-3): nothing but the entry chain, which has no key, shows they were not rewritten')
})
