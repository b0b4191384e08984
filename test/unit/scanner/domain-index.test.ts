/**
 * `matchesAnyDomain` looks a long list up through an index (domain-match.ts `DomainIndex`); its
 * answer must be the pattern-by-pattern loop's, first match in list order included, on lists of
 * exact hosts, wildcards, upper case, trailing dots, IP literals, duplicates and odd wildcards
 * (`*.`, `*.*.example.com`, read literally).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {matchDomain, matchesAnyDomain} from '../../../src/plugins/scanner/domain-match.js'
import {prng} from '../../helpers/prng.js'

/** The reference: the loop `matchesAnyDomain` runs on a short list. */
function loop(host: string, patterns: readonly string[]): string | null {
  for (const p of patterns) if (matchDomain(host, p)) return p
  return null
}

const LABELS = ['api', 'svc', 'example', 'corp', 'com', 'org', 'a', 'b', 'x-1', 'Example', 'COM', '*', '']

test('an indexed list answers as the loop: the first matching pattern, in list order', () => {
  const r = prng(36)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const name = (): string => Array.from({length: 1 + Math.floor(r() * 3)}, () => pick(LABELS)).join('.')
  let lists = 0
  let hits = 0
  let firstNotOnly = 0
  for (let round = 0; round < 60; round++) {
    const size = 32 + Math.floor(r() * 400)
    const patterns = Array.from({length: size}, () => {
      const roll = r()
      const base = roll < 0.05 ? `10.0.${Math.floor(r() * 4)}.${Math.floor(r() * 4)}` : name()
      const p = roll < 0.5 ? `*.${base}` : base
      return r() < 0.1 ? `${p}.` : p
    })
    lists++
    for (let k = 0; k < 300; k++) {
      const roll = r()
      const host = roll < 0.4 ? `${name()}.${pick(patterns).replace(/^\*\./, '')}` : roll < 0.6 ? pick(patterns).replace(/^\*\./, '').toUpperCase() : roll < 0.7 ? `${name()}.` : name()
      const want = loop(host, patterns)
      assert.equal(matchesAnyDomain(host, patterns), want, `${JSON.stringify(host)} in list ${round}`)
      if (want !== null) {
        hits++
        if (patterns.filter((p) => matchDomain(host, p)).length > 1) firstNotOnly++
      }
    }
  }
  // The lists were looked up through the index, and the cases where order decides were met.
  assert.ok(lists === 60 && hits > 5000 && firstNotOnly > 1000, `${hits} hits, ${firstNotOnly} with more than one match`)
})

test('a list that grows after its first lookup is indexed again', () => {
  const patterns = Array.from({length: 40}, (_, i) => `host${i}.example.com`)
  assert.equal(matchesAnyDomain('new.example.org', patterns), null)
  patterns.push('*.example.org')
  assert.equal(matchesAnyDomain('new.example.org', patterns), '*.example.org')
})
