/**
 * The MCP split-secret pass as the specification runs it (§4.2), every junction text scanned:
 * the oracle of the screened pass (test/unit/mcp/split-pass-differential.test.ts) and the `mcp`
 * bench's unscreened baseline. Kept out of src/: production scans only the pairs
 * `junctionPairsToScan` keeps.
 */
import {junctionPairs, JUNCTION_WINDOW} from '../../src/plugins/mcp/index.js'
import type {JoinedText} from '../../src/plugins/scanner/index.js'

/**
 * The texts of the pairwise split check: `junctionPairs` joined, a text already yielded not
 * yielded again. Each text carries its junction (`split` = the length of its first value's part).
 */
export function* junctionTexts(vals: readonly string[], window: number | null = JUNCTION_WINDOW): Generator<JoinedText> {
  const seen = new Set<string>()
  for (const {x, y, left, right} of junctionPairs(vals, window)) {
    const text = x + y
    if (seen.has(text)) continue
    seen.add(text)
    yield {text, split: x.length, left, right}
  }
}
