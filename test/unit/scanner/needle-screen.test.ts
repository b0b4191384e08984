/**
 * The multi-needle screen of canary and literal-secret searches (needle-screen.ts): it proves a
 * list absent only when no variant occurs, so `findCanary` and `findLiteralSecret` answer as the
 * variant-by-variant loop, with 500 canaries (screened) and with two (not screened).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {findCanary} from '../../../src/plugins/scanner/dlp-engine.js'
import {needlesAbsent} from '../../../src/plugins/scanner/needle-screen.js'
import {findLiteralSecret, secretVariants} from '../../../src/plugins/scanner/secrets.js'
import {prng} from '../../helpers/prng.js'

const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'

function canaries(n: number, seed: number): Array<{name: string; variants: ReturnType<typeof secretVariants>}> {
  const r = prng(seed)
  return Array.from({length: n}, (_, i) => {
    let v = 'AKIA'
    for (let k = 0; k < 16; k++) v += B32[Math.floor(r() * 32)]
    return {name: `c${i}`, variants: secretVariants(v)}
  })
}

/** The loop's answer: whether some variant occurs (in the lower-cased text for the lower-cased ones). */
function anyByLoop(list: ReturnType<typeof canaries>, haystacks: readonly string[]): boolean {
  return list.some((c) => c.variants.some((v) => haystacks.some((h) => (v.lowerHaystack ? h.toLowerCase() : h).includes(v.needle))))
}

test('the screen proves a list absent exactly when the loop finds no variant', () => {
  const r = prng(7)
  const list = canaries(500, 1)
  const filler = (n: number): string => Array.from({length: n}, () => 'abcdefghij KLMNOP 0123456789:-,\\x+/='[Math.floor(r() * 36)]).join('')
  let present = 0
  for (let k = 0; k < 400; k++) {
    const c = list[Math.floor(r() * list.length)]!
    const v = c.variants[Math.floor(r() * c.variants.length)]!
    const roll = r()
    // A variant whole (as written, or upper-cased where the text is read lower-cased), one cut short, or none.
    const needle = roll < 0.3 ? v.needle : roll < 0.45 ? v.needle.toUpperCase() : roll < 0.7 ? v.needle.slice(1) : ''
    const at = Math.floor(r() * 3)
    const body = at === 0 ? needle + filler(200) : at === 1 ? filler(100) + needle + filler(100) : filler(200) + needle
    const haystacks = r() < 0.5 ? [body] : [filler(50), body]
    const want = anyByLoop(list, haystacks)
    assert.equal(needlesAbsent(list, haystacks, haystacks.map((h) => h.toLowerCase())), !want, JSON.stringify(haystacks))
    assert.deepEqual(findCanary(list, haystacks), want ? findCanaryByLoop(list, haystacks) : null)
    if (want) present++
  }
  assert.ok(present > 100 && present < 300, `present in ${present} of 400`)
  // Texts shorter than the hashed prefix, and empty ones.
  assert.equal(needlesAbsent(list, ['', 'AKIA'], ['', 'akia']), true)
})

function findCanaryByLoop(list: ReturnType<typeof canaries>, haystacks: readonly string[]): {name: string; encoding: string} | null {
  for (const c of list) for (const v of c.variants) for (const h of haystacks) if ((v.lowerHaystack ? h.toLowerCase() : h).includes(v.needle)) return {name: c.name, encoding: v.encoding}
  return null
}

test('a short list is not screened: the search is variant by variant, with the same answers', () => {
  const list = canaries(2, 3)
  const hay = [`token ${list[1]!.variants[0]!.needle} end`]
  assert.equal(needlesAbsent(list, ['nothing here'], ['nothing here']), false, 'not screened: never proven absent')
  assert.deepEqual(findCanary(list, hay), {name: 'c1', encoding: ''})
  assert.equal(findCanary(list, ['nothing here']), null)
  const secrets = list.map((c) => ({kind: 'env' as const, variants: c.variants}))
  assert.deepEqual(findLiteralSecret(secrets, hay), {kind: 'env', encoding: ''})
  const many = canaries(100, 4).map((c) => ({kind: 'file' as const, variants: c.variants}))
  const hex = many[42]!.variants.find((v) => v.lowerHaystack)!.needle.toUpperCase()
  assert.deepEqual(findLiteralSecret(many, [`x ${hex} y`]), {kind: 'file', encoding: 'hex'})
  assert.equal(findLiteralSecret(many, ['x y']), null)
})
