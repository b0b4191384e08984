/**
 * `seed-phrase` spans (envelope-redaction §14.2): tokens split on runs of `[-\s,|;:]` (ASCII
 * `\s`); for each window length a checksum-valid run of BIP-39 English words is a span from the
 * first token's start to the last token's end.
 */
import {wordlist} from '@scure/bip39/wordlists/english.js'
import {bip39ChecksumValid} from '../scanner/index.js'

const WINDOWS = [12, 15, 18, 21, 24]
let INDEX: Map<string, number> | undefined

function isSep(c: number): boolean {
  return c === 0x2d || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d || c === 0x20 || c === 0x2c || c === 0x7c || c === 0x3b || c === 0x3a
}

export function seedPhraseSpans(text: string): [number, number][] {
  const index = (INDEX ??= new Map(wordlist.map((w, i) => [w, i])))
  const starts: number[] = []
  const ends: number[] = []
  const words: number[] = []
  let i = 0
  while (i < text.length) {
    while (i < text.length && isSep(text.charCodeAt(i))) i++
    if (i >= text.length) break
    const s = i
    while (i < text.length && !isSep(text.charCodeAt(i))) i++
    starts.push(s)
    ends.push(i)
    words.push(i - s > 8 ? -1 : (index.get(text.slice(s, i).toLowerCase()) ?? -1))
  }
  if (words.length < 12) return []
  const out: [number, number][] = []
  for (const L of WINDOWS) {
    let w = 0
    while (w + L <= words.length) {
      let allWords = true
      for (let k = w; k < w + L; k++) {
        if (words[k]! < 0) {
          allWords = false
          w = k + 1
          break
        }
      }
      if (!allWords) continue
      if (bip39ChecksumValid(words.slice(w, w + L))) {
        out.push([starts[w]!, ends[w + L - 1]!])
        w += L
      } else w++
    }
  }
  return out
}
