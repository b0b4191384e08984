/**
 * Test oracles for the scanner's fast paths: the straightforward forms each optimisation was
 * written against, kept here (not in src/) for the differential tests that compare the two.
 */
import {isUtf8} from 'node:buffer'
import {foldVowels, isInvisible, leetspeak, replaceInvisibleWithSpace, type Normalizer, type ResponseScanner} from '../../../src/plugins/scanner/index.js'
import type {PassTexts} from '../../../src/plugins/scanner/pass-texts.js'

/** The four pass texts as the normaliser itself makes them: the oracle of the pass-text walks. */
export function normaliserPasses(n: Normalizer, s: string): PassTexts {
  const p1 = n.forMatching(s)
  const inv = replaceInvisibleWithSpace(s)
  return {normalized: p1, invisible: inv === s ? p1 : n.forMatching(inv), leet: leetspeak(p1), folded: foldVowels(p1)}
}

/** The original `for…of` code-point walk of the normalisation passes. */
export function mapCodePointsReference(s: string, f: (cp: number) => string | null): string {
  let out = ''
  for (const ch of s) {
    const r = f(ch.codePointAt(0)!)
    out += r === null ? ch : r
  }
  return out
}

function isC0C1Del(cp: number): boolean {
  return cp <= 0x1f || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)
}

/**
 * The scanner normaliser's invisible set by its definition: the spec's I, U+FFFD, and a lone
 * surrogate (a code point U+D800–U+DFFF as `for…of` yields it), which reads as U+FFFD.
 */
export function isScannerInvisibleReference(cp: number): boolean {
  return isInvisible(cp) || cp === 0xfffd || (cp >= 0xd800 && cp <= 0xdfff)
}

/** The predicate form of `stripControlChars`' class: C0, C1, DEL and the scanner's invisibles. */
export function isControlOrInvisible(cp: number): boolean {
  return isC0C1Del(cp) || isScannerInvisibleReference(cp)
}

/** The predicate form of `stripZeroWidth`'s class: the same without tab, LF and CR. */
export function isZeroWidthClass(cp: number): boolean {
  if (cp === 0x09 || cp === 0x0a || cp === 0x0d) return false
  return isC0C1Del(cp) || isScannerInvisibleReference(cp)
}

const LEET: Readonly<Record<string, string>> = {'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's'}

/** `leetspeak` as the original code-point loop. */
export function leetspeakReference(s: string): string {
  let out = ''
  for (const ch of s) out += LEET[ch] ?? ch
  return out
}

/** `foldVowels` as the original code-point loop. */
export function foldVowelsReference(s: string): string {
  let out = ''
  for (const ch of s) {
    if (ch === 'e' || ch === 'i' || ch === 'o' || ch === 'u') out += 'a'
    else if (ch === 'E' || ch === 'I' || ch === 'O' || ch === 'U') out += 'A'
    else out += ch
  }
  return out
}

/** The same scanner without the RE2::Set pre-filters: every pattern tried on every text. */
export function withoutPatternSets(sc: ResponseScanner): ResponseScanner {
  const strip = (set: ResponseScanner['core']): ResponseScanner['core'] => ({patterns: set.patterns, sets: {re: {set: null, patternIndex: []}, optWs: {set: null, patternIndex: []}, fold: {set: null, patternIndex: []}}, pair: {set: null, entries: []}})
  return {...sc, core: strip(sc.core), configured: strip(sc.configured), joint: null}
}

/** The same scanner on the reference passes (`passTexts: null`: no table walk, no pass-6 shortcuts). */
export function withReferencePasses(sc: ResponseScanner): ResponseScanner {
  return {...sc, passTexts: null}
}

/** The same scanner with the content's pass texts as strings re-encoded for the sets (`passBytes: false`: the UTF-8 walk's oracle). */
export function withStringPasses(sc: ResponseScanner): ResponseScanner {
  return {...sc, passBytes: false}
}

/** The printable runs' bounds by their definition: maximal stretches of printable ASCII and tab of at least `min` bytes. */
export function oraclePrintableBounds(body: Buffer, min: number): number[] {
  const out: number[] = []
  let start = -1
  for (let i = 0; i <= body.length; i++) {
    const c = i < body.length ? body[i]! : 0
    if ((c >= 0x20 && c < 0x7f) || c === 0x09) {
      if (start < 0) start = i
      continue
    }
    if (start >= 0 && i - start >= min) out.push(start, i)
    start = -1
  }
  return out
}

/** printableRuns as first written (every byte read), the oracle of its skipping form. */
export function oraclePrintable(body: Buffer, min = 6): string | null {
  if (!body.some((c) => (c < 0x20 ? c !== 0x09 && c !== 0x0a && c !== 0x0d : c === 0x7f))) return null
  const bounds = oraclePrintableBounds(body, min)
  const runs: string[] = []
  for (let k = 0; k < bounds.length; k += 2) runs.push(body.toString('latin1', bounds[k], bounds[k + 1]))
  return runs.join('\n')
}

/**
 * The oracle of `spoiltText` (text-runs.ts), from its definition: a word (64 bytes) is damaged by
 * its bytes ≥ 0x80, DEL and its control bytes but NUL, tab, LF and CR; a word with damage, at most
 * one byte in four of those it holds, covers itself and its two neighbours; each row of covered
 * words is read as UTF-8 without its U+FFFD, and left out when that reads as nothing or (with
 * `dropRuns`) as the one text run wholly inside the row.
 */
export function oracleSpoilt(b: Buffer, dropRuns = true): string {
  const words = Math.ceil(b.length / 64)
  const covered = new Array<boolean>(words).fill(false)
  for (let j = 0; j < words; j++) {
    const word = b.subarray(64 * j, 64 * (j + 1))
    const damage = word.filter((x) => x >= 0x7f || (x < 0x20 && ![0x00, 0x09, 0x0a, 0x0d].includes(x))).length
    if (damage > 0 && damage / word.length <= 1 / 4) for (const w of [j - 1, j, j + 1]) if (w >= 0 && w < words) covered[w] = true
  }
  const runs = oracleRunBounds(b, 12)
  const parts: string[] = []
  for (let j = 0; j < words; j++) {
    if (!covered[j] || (j > 0 && covered[j - 1])) continue
    let k = j
    while (k + 1 < words && covered[k + 1]) k++
    const from = 64 * j
    const to = Math.min(b.length, 64 * (k + 1))
    const reading = b.toString('utf8', from, to).split('\ufffd').join('')
    const inside = runs.filter(([s, e]) => s >= from && e <= to)
    if (reading === '' || (dropRuns && inside.length === 1 && reading === b.toString('utf8', inside[0]![0], inside[0]![1]))) continue
    parts.push(reading)
  }
  return parts.join(' ')
}

/** The oracle of `binaryText`: the text runs, then the spoilt text, joined by a space. */
export function oracleBinaryText(b: Buffer): string {
  return [oracleRuns(b, 12), oracleSpoilt(b)].filter((t) => t !== '').join(' ')
}

/** The oracle of `textRuns`: byte by byte, each sequence's validity asked of Node's validator; runs of `min` bytes joined by a space. */
export function oracleRuns(b: Buffer, min: number): string {
  return oracleRunBounds(b, min).map(([s, e]) => b.toString('utf8', s, e)).join(' ')
}

/** The text runs of at least `min` bytes as [start, end) pairs, byte by byte (`oracleRuns`). */
export function oracleRunBounds(b: Buffer, min: number): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  let start = 0
  let i = 0
  const close = (end: number): void => {
    if (end - start >= min) runs.push([start, end])
  }
  while (i < b.length) {
    const c = b[i]!
    const n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2
    if (i + n <= b.length && isUtf8(b.subarray(i, i + n))) {
      i += n
      continue
    }
    close(i)
    i++
    start = i
  }
  close(b.length)
  return runs
}
