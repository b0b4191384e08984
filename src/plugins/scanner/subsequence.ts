/**
 * §5.5 subsequence targets: every ordered 2-, 3- and 4-value concatenation of the first 20
 * query values (190 + 1,140 + 4,845 strings), normalised, each distinct string once, in the
 * enumeration order (for a < b: the pair, then for c: the triple, then each quadruple).
 *
 * Running the DLP set over all of them cost milliseconds per URL. A junction screen proves most
 * of them clean without building them, so only the rest are returned — and a string that is
 * left out has no DLP match at all, so the first string with a finding, every finding and every
 * warning are exactly what the full list gives.
 *
 * The proof: each DLP pattern R has a core N (`regexCore`) that matches wherever R matches,
 * has no assertions and is at most `window` code points long. For a concatenation c of values
 * v1…vk, an N-match in c either lies inside one value (then N matches that value alone) or
 * touches a run of r ≥ 2 consecutive values x1…xr: it then holds all of the middle values
 * (m code points, so m ≤ window − 2) and at most window − 1 − m code points of x1's tail and
 * of xr's head — the "chain" string tail + middles + head, which does not depend on the rest of
 * c. So: one set pass over the values and the chains (batched, '\n'-joined, split in halves on a
 * hit), and c is kept iff one of its values or one of its runs of consecutive values hit.
 *
 * Exactness needs `forDlp(c)` = c, which holds when every value is printable ASCII (then code
 * points are code units, too). Otherwise, or when some pattern has no core, every string is
 * returned as before.
 */
import type {Utf8Scratch} from './dlp-engine.js'
import {isPrintableAscii} from './normalize.js'
import {readRegexCoreTable, regexCoreLookup} from './regex-core-table.js'
import {compileSet, setMatches, type Re2Set} from './regex.js'

/** At most this many values take part (§5.5). */
export const SUBSEQUENCE_MAX_VALUES = 20

/**
 * Target length of the cores: shorter windows mean shorter chains (and fewer, since a chain's
 * middles must fit), longer cores fewer false hits. Measured on the bench URLs.
 */
export const JUNCTION_CORE_CAP = 20

/** `regexCore`, from the build's table for the built-in patterns (regex-core-table.ts). */
const coreOf = regexCoreLookup(readRegexCoreTable())

/** Joined chains per set pass. */
const BATCH_CHARS = 16384

export interface JunctionScreen {
  /** RE2::Set of the cores, entry i for pattern i. */
  readonly set: Re2Set
  /** No core match is longer (code points). */
  readonly window: number
}

/** The screen for these pattern sources (as compiled), or null when one of them has no core. */
export function buildJunctionScreen(sources: readonly string[]): JunctionScreen | null {
  let window = 1
  const cores: string[] = []
  for (const src of sources) {
    const c = coreOf(src, JUNCTION_CORE_CAP)
    if (c === null) return null
    cores.push(c.source)
    window = Math.max(window, c.maxLen)
  }
  const set = compileSet(cores)
  return set === null ? null : {set, window}
}

/** Indices of `texts` in which some core matches (undecidable passes count as hits). */
export function hitting(texts: readonly string[], screen: JunctionScreen, encoder: Utf8Scratch): number[] {
  const out: number[] = []
  const probe = (lo: number, hi: number): void => {
    const r = setMatches(screen.set, encoder.encode(hi - lo === 1 ? texts[lo]! : texts.slice(lo, hi).join('\n')))
    if (r !== null && r.length === 0) return
    if (hi - lo === 1) {
      out.push(lo)
      return
    }
    const mid = (lo + hi) >> 1
    probe(lo, mid)
    probe(mid, hi)
  }
  let lo = 0
  let size = 0
  for (let i = 0; i < texts.length; i++) {
    size += texts[i]!.length + 1
    if (size >= BATCH_CHARS) {
      probe(lo, i + 1)
      lo = i + 1
      size = 0
    }
  }
  if (lo < texts.length) probe(lo, texts.length)
  return out
}

/** Which values and chains hit, or null when nothing did. */
interface Hits {
  readonly value: Uint8Array
  readonly pair: Uint8Array
  readonly triple: Uint8Array
  readonly quad: ReadonlySet<number>
}

function junctionHits(v: readonly string[], screen: JunctionScreen, encoder: Utf8Scratch): Hits | null {
  const n = v.length
  const w = screen.window
  const tail = (s: string, k: number): string => (s.length <= k ? s : s.slice(s.length - k))
  const head = (s: string, k: number): string => (s.length <= k ? s : s.slice(0, k))
  const texts: string[] = [...v]
  const keys: number[] = v.map((_, i) => i)
  // Keys: value i → i; pair → n + a·n + b; triple → n + n² + (a·n + b)·n + c; quad → −(((a·n + b)·n + c)·n + d) − 1.
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      texts.push(tail(v[a]!, w - 1) + head(v[b]!, w - 1))
      keys.push(n + a * n + b)
      const mb = v[b]!.length
      if (mb > w - 2) continue
      for (let c = b + 1; c < n; c++) {
        const k3 = w - 1 - mb
        texts.push(tail(v[a]!, k3) + v[b]! + head(v[c]!, k3))
        keys.push(n + n * n + (a * n + b) * n + c)
        const mc = mb + v[c]!.length
        if (mc > w - 2) continue
        const k4 = w - 1 - mc
        for (let d = c + 1; d < n; d++) {
          texts.push(tail(v[a]!, k4) + v[b]! + v[c]! + head(v[d]!, k4))
          keys.push(-(((a * n + b) * n + c) * n + d) - 1)
        }
      }
    }
  }
  const hit = hitting(texts, screen, encoder)
  if (hit.length === 0) return null
  const h = {value: new Uint8Array(n), pair: new Uint8Array(n * n), triple: new Uint8Array(n * n * n), quad: new Set<number>()}
  for (const i of hit) {
    const key = keys[i]!
    if (key < 0) h.quad.add(-key - 1)
    else if (key < n) h.value[key] = 1
    else if (key < n + n * n) h.pair[key - n] = 1
    else h.triple[key - n - n * n] = 1
  }
  return h
}

/**
 * The subsequence targets of `values` (the query values, decoded, in order) that can hold a
 * DLP match, normalised by `normalize`, distinct, in enumeration order. Without a screen (or
 * with a value that is not printable ASCII) every target is returned.
 */
export function subsequenceTexts(values: readonly string[], screen: JunctionScreen | null, encoder: Utf8Scratch, normalize: (s: string) => string): string[] {
  if (values.length < 3) return []
  const v = values.slice(0, SUBSEQUENCE_MAX_VALUES)
  const n = v.length
  let h: Hits | null = null
  const screened = screen !== null && v.every(isPrintableAscii)
  if (screened) {
    h = junctionHits(v, screen, encoder)
    if (h === null) return []
  }
  const out = new Set<string>()
  const add = (t: string): void => void out.add(screened ? t : normalize(t))
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const k2 = h === null || h.value[a] === 1 || h.value[b] === 1 || h.pair[a * n + b] === 1
      if (k2) add(v[a]! + v[b]!)
      for (let c = b + 1; c < n; c++) {
        const k3 = k2 || h === null || h.value[c] === 1 || h.pair[b * n + c] === 1 || h.triple[(a * n + b) * n + c] === 1
        if (k3) add(v[a]! + v[b]! + v[c]!)
        for (let d = c + 1; d < n; d++) {
          const k4 = k3 || h === null || h.value[d] === 1 || h.pair[c * n + d] === 1 || h.triple[(b * n + c) * n + d] === 1 || h.quad.has(((a * n + b) * n + c) * n + d)
          if (k4) add(v[a]! + v[b]! + v[c]! + v[d]!)
        }
      }
    }
  }
  return [...out]
}
