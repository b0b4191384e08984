/**
 * The config feature sections a piece of a user doc names in backticks (`` `mcp_ws_listener` ``),
 * sorted and each once: the doc tests hold the lists of what a command implements, accepts or
 * refuses to the code's own sets.
 */
import {FEATURE_SECTION_NAMES} from '../../src/plugins/config/index.js'

export function featureSectionsIn(text: string): string[] {
  const names = [...text.matchAll(/`([a-z0-9_.]+)`/g)].map((m) => m[1]!)
  return [...new Set(names.filter((n) => (FEATURE_SECTION_NAMES as readonly string[]).includes(n)))].sort()
}
