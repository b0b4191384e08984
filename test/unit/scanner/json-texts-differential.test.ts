/**
 * The JSON body tokenizer (`extractJsonParts`, read by character code) against two oracles: a
 * generated document's texts are the tokens it was generated from (keys, strings, numbers as
 * spelt, booleans, in document order; one-character arrays joined), and a mutated document is
 * refused exactly when `JSON.parse` refuses it (depth kept under the 64 limit).
 */
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {extractJsonParts} from '../../../src/plugins/scanner/json-texts.js'
import {prng} from './fixtures.js'

interface Doc {
  src: string
  texts: string[]
  values: string[]
  charArrays: string[]
}

/** Writes one value into `d`; the string it wrote when it was a string, else null. */
function generate(r: () => number, depth: number, d: Doc): string | null {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!
  const strings = ['', 'a', 'é', '😀', '\ud800', 'alpha', 'with "quotes"', 'back\\slash', 'line\nbreak', '\u2028', 'tab\t', '10', 'true', 'x'.repeat(30)]
  const numbers = ['0', '-0', '1', '-12', '1.5', '0.25', '1e3', '1E+3', '-2.5e-7', '123456789012345678901234567890', '7.0']
  const ws = (): string => pick(['', '', ' ', '\n', '\t', '\r\n  '])
  const k = r()
  if (depth < 5 && k < 0.2) {
    const n = Math.floor(r() * 5)
    d.src += '{' + ws()
    for (let i = 0; i < n; i++) {
      if (i > 0) d.src += ',' + ws()
      const key = pick([...strings, '2', '01'])
      d.src += JSON.stringify(key) + ws() + ':' + ws()
      d.texts.push(key)
      generate(r, depth + 1, d)
      d.src += ws()
    }
    d.src += '}'
    return null
  } else if (depth < 5 && k < 0.4) {
    const n = Math.floor(r() * 5)
    const oneChar = r() < 0.4
    // Every element a one-code-point string (chosen so, or by chance): joined by the tokenizer.
    let elems: string[] | null = []
    d.src += '[' + ws()
    for (let i = 0; i < n; i++) {
      if (i > 0) d.src += ',' + ws()
      if (oneChar) {
        const c = pick(['a', 'é', '😀', '\ud800', 'Z', '\\'])
        d.src += JSON.stringify(c)
        d.texts.push(c)
        d.values.push(c)
        elems?.push(c)
      } else {
        const v = generate(r, depth + 1, d)
        if (v !== null && [...v].length === 1) elems?.push(v)
        else elems = null
      }
      d.src += ws()
    }
    d.src += ']'
    if (elems !== null && n > 1) d.charArrays.push(elems.join(''))
    return null
  } else if (k < 0.7) {
    const s = pick(strings)
    // Escaped as JSON.stringify writes it, or with every character a \u escape.
    d.src += r() < 0.8 ? JSON.stringify(s) : '"' + Array.from({length: s.length}, (_, u) => '\\u' + s.charCodeAt(u).toString(16).padStart(4, '0')).join('') + '"'
    d.texts.push(s)
    d.values.push(s)
    return s
  } else if (k < 0.85) {
    const n = pick(numbers)
    d.src += n
    d.texts.push(n)
    return null
  } else {
    const b = pick(['true', 'false', 'null'])
    d.src += b
    if (b !== 'null') d.texts.push(b)
    return null
  }
}

test('JSON tokenizer: texts, values and one-character arrays of generated documents; refusals as JSON.parse refuses', () => {
  const r = prng(4242)
  let refused = 0
  for (let i = 0; i < 3000; i++) {
    const d: Doc = {src: '', texts: [], values: [], charArrays: []}
    generate(r, 0, d)
    const got = extractJsonParts(d.src)
    assert.deepEqual(got.texts, d.texts, d.src)
    assert.deepEqual(got.values, d.values, d.src)
    assert.deepEqual(got.charArrays, d.charArrays, d.src)
    // One unit changed, dropped or cut: refused exactly when JSON.parse refuses.
    const at = Math.floor(r() * (d.src.length + 1))
    const junk = ['', '"', ',', ':', '{', '}', '[', ']', '-', '.', 'e', '0', '1', '+', '\\', '\u0000', '\n', 'x', 't', 'n', 'E']
    const mutated = r() < 0.2 ? d.src.slice(0, at) : d.src.slice(0, at) + junk[Math.floor(r() * junk.length)] + d.src.slice(at + (r() < 0.5 ? 1 : 0))
    let parseOk = true
    try {
      JSON.parse(mutated)
    } catch {
      parseOk = false
    }
    let ours = true
    try {
      extractJsonParts(mutated)
    } catch {
      ours = false
    }
    if (!parseOk) refused++
    assert.equal(ours, parseOk, JSON.stringify(mutated))
  }
  assert.ok(refused > 1000, `refused ${refused}`)
})
