/**
 * The `mcp` bench's sampled RSS columns (issue 12): medians and maxima of each process's samples
 * and the median of the per-sample difference, added beside (never replacing) the end-of-run read.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {rssColumns, rssSampleEvery} from '../../../bench/mcp.js'

test('rssColumns: median, max and the median per-sample difference', () => {
  const c = rssColumns([70, 68, 75, 69, 71], [48, 47, 50, 49, 48])
  assert.deepEqual(c, {
    rss_samples: 5,
    pipelock_rss_median_mib: 70, pipelock_rss_max_mib: 75,
    bare_node_rss_median_mib: 48, bare_node_rss_max_mib: 50,
    // differences 22, 21, 25, 20, 23: the median is of the pairs, not median minus median
    added_rss_median_mib: 22,
  })
})

test('rssColumns: no samples gives zeros, not NaN or -Infinity', () => {
  assert.deepEqual(rssColumns([], []), {
    rss_samples: 0, pipelock_rss_median_mib: 0, pipelock_rss_max_mib: 0,
    bare_node_rss_median_mib: 0, bare_node_rss_max_mib: 0, added_rss_median_mib: 0,
  })
})

test('rssSampleEvery: about 40 samples, never more often than every 10 calls', () => {
  assert.equal(rssSampleEvery(4000), 100)
  assert.equal(rssSampleEvery(400), 10)
  assert.equal(rssSampleEvery(100), 10)
  assert.equal(Math.floor(4000 / rssSampleEvery(4000)), 40)
})
