/**
 * The multi-needle screen of canary and literal-secret searches (needle-screen.ts): it proves a
 * list absent only when no variant occurs, so `findCanary` and `findLiteralSecret` answer as the
 * variant-by-variant loop, with 500 canaries (screened) and with two (not screened); and the
 * split-secret pass's junction cuts of those strings, looked up by their edge characters.
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {findCanary} from '../../../src/plugins/scanner/dlp-engine.js'
import {NeedleCuts, type Needle} from '../../../src/plugins/scanner/joined-text-screen.js'
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

/** The cuts of `s` by trying every cut of every needle (the junction check before its index). */
function cutsByLoop(needles: readonly Needle[], stride: number, s: string, tail: boolean): number[] {
  const out: number[] = []
  needles.forEach((n, a) => {
    for (let k = 1; k < n.text.length; k++) {
      const len = tail ? k : n.text.length - k
      if (len > s.length) continue
      const part = tail ? s.slice(s.length - k) : s.slice(0, len)
      if ((n.lower ? part.replace(/[A-Z]/g, (c) => c.toLowerCase()) : part) === (tail ? n.text.slice(0, k) : n.text.slice(k))) out.push(a * stride + k)
    }
  })
  return out
}

test('the junction cuts looked up by their edge characters are the cuts found by trying every one', () => {
  const r = prng(11)
  const list = canaries(60, 5)
  const needles: Needle[] = list.flatMap((c) => c.variants.map((v) => ({text: v.needle, lower: v.lowerHaystack})))
  const cuts = new NeedleCuts(needles)
  let found = 0
  for (let k = 0; k < 500; k++) {
    const n = needles[Math.floor(r() * needles.length)]!
    const at = 1 + Math.floor(r() * (n.text.length - 1))
    const tail = r() < 0.5
    const piece = tail ? n.text.slice(0, at) : n.text.slice(at)
    const shown = n.lower && r() < 0.5 ? piece.toUpperCase() : piece
    const pad = 'xyz AKIA-01:'.slice(0, Math.floor(r() * 12))
    const s = r() < 0.2 ? shown.slice(0, 1) : tail ? pad + shown : shown + pad
    const want = cutsByLoop(needles, cuts.stride, s, tail).sort((a, b) => a - b)
    assert.deepEqual(cuts.of(s, tail).sort((a, b) => a - b), want, `${tail ? 'tail' : 'head'} ${JSON.stringify(s)}`)
    found += want.length
  }
  assert.ok(found > 350, `cuts found ${found}`)
  assert.deepEqual(cuts.of('', true), [])
})
