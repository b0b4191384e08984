/**
 * The fewest code points any match of a DLP pattern spans (issue 36). A text with fewer code
 * units than that cannot hold a match (a code point is one or two UTF-16 code units; RE2 reads a
 * lone surrogate as one U+FFFD), so the set pass and the per-pattern regexes over it are skipped:
 * a JSON body's short values and their decodings were a set pass each.
 *
 * From the parse of `regex-core.ts`: a leaf atom (literal, `.`, class, escape) matches exactly one
 * code point whatever the flags (`(?i)` folds a letter to one code point, e.g. `k` to U+212A); an
 * assertion matches none; a sequence spans the sum of its elements, `atom{min,max}` at least
 * `min` times the atom's least span; alternatives the least of theirs. A source the parser does
 * not understand answers 0 (nothing is skipped). test/unit/scanner/min-match-length.test.ts
 * checks every shipped pattern through RE2 itself.
 */
import {parseRegex, type Atom, type Elem} from './regex-core.js'

function leastOfAtom(a: Atom): number {
  if (a.kind === 'assert') return 0
  if (a.kind === 'leaf') return 1
  return leastOfAlternatives(a.alts)
}

function leastOfSequence(seq: readonly Elem[]): number {
  let n = 0
  for (const e of seq) n += e.min === 0 ? 0 : e.min * leastOfAtom(e.atom)
  return n
}

function leastOfAlternatives(alts: readonly Elem[][]): number {
  let least = Infinity
  for (const alt of alts) least = Math.min(least, leastOfSequence(alt))
  return Number.isFinite(least) ? least : 0
}

/** The fewest code points a match of `source` (as compiled, `(?i)` included) can span; 0 when unknown. */
export function minMatchLength(source: string): number {
  const alts = parseRegex(source)
  return alts === null ? 0 : leastOfAlternatives(alts)
}

/** The least `minMatchLength` over a pattern list (0 for an empty list or any unknown pattern). */
export function leastMatchLength(sources: readonly string[]): number {
  if (sources.length === 0) return 0
  let least = Infinity
  for (const s of sources) least = Math.min(least, minMatchLength(s))
  return least
}
