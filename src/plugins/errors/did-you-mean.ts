import {distance} from 'fastest-levenshtein'

/**
 * The candidate `word` most likely misspells, for a "did you mean" in an error: the nearest by
 * edit distance when it is near enough to be a typo (within a third of the word's length, at least
 * one edit: `enabeld` → `enabled`, `confg` → `config`); undefined when none is. The first of equally
 * near candidates wins.
 */
export function nearestSpelling(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(1, Math.ceil(word.length / 3)) + 1
  for (const c of candidates) {
    const d = distance(word, c)
    if (d < bestDistance) {
      best = c
      bestDistance = d
    }
  }
  return best
}
