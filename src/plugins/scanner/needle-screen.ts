/**
 * Whether a list of secrets' variants (canary tokens, env and file secrets: `secrets.ts`) is
 * proven absent from some texts: a multi-needle search (Rabin–Karp on each needle's first `q`
 * code units, a bitmap then a bucket of needles per hash, each candidate compared in place)
 * walks a text once for all the needles, instead of one substring search per variant. With 500
 * canary tokens (≈ 6,500 variants) a chat request's body scan took 13 ms, nearly all of it in
 * those searches. Hand-written: no maintained npm package searches many needles in a JS string
 * in one pass without copying it, and RE2 over the needles as one alternation overflows its DFA
 * (a 256-needle alternation walked 2 KiB of text in ≈ 0.2 ms). A list with few variants is
 * searched variant by variant as before.
 */
import type {SecretVariant} from './secrets.js'

/** From this many variants a list is screened. */
const SCREENED_FROM = 48

/** Units hashed per position (fewer when a needle is shorter; a list with a needle under four is not screened). */
const Q = 8

interface Search {
  readonly q: number
  /** 31^(q − 1): the weight of the unit that leaves the window. */
  readonly top: number
  /** One bit per hash value modulo its size (`mask + 1`, about 32 bits per needle: a text's position passes it about 3 % of the time). */
  readonly mask: number
  readonly bitmap: Uint8Array
  readonly buckets: Map<number, string[]>
}

interface Screen {
  readonly exact: Search | null
  readonly lower: Search | null
}

const screens = new WeakMap<readonly {readonly variants: readonly SecretVariant[]}[], Screen | null>()

/**
 * True when no variant of `list` occurs in any of `haystacks` (`lowered`: the same texts
 * lower-cased, for the variants searched that way); false when one does, or the list is not
 * screened: the caller then searches variant by variant for its answer.
 */
export function needlesAbsent(
  list: readonly {readonly variants: readonly SecretVariant[]}[],
  haystacks: readonly string[],
  lowered: readonly string[],
): boolean {
  let screen = screens.get(list)
  if (screen === undefined) screens.set(list, (screen = buildScreen(list)))
  if (screen === null) return false
  if (screen.exact !== null) for (const h of haystacks) if (holdsAny(screen.exact, h)) return false
  if (screen.lower !== null) for (const h of lowered) if (holdsAny(screen.lower, h)) return false
  return true
}

function buildScreen(list: readonly {readonly variants: readonly SecretVariant[]}[]): Screen | null {
  const exact: string[] = []
  const lower: string[] = []
  for (const s of list) for (const v of s.variants) if (v.needle !== '') (v.lowerHaystack ? lower : exact).push(v.needle)
  if (exact.length + lower.length < SCREENED_FROM) return null
  if (exact.some((n) => n.length < 4) || lower.some((n) => n.length < 4)) return null
  return {exact: search(exact), lower: search(lower)}
}

function search(needles: readonly string[]): Search | null {
  if (needles.length === 0) return null
  const q = needles.reduce((least, n) => Math.min(least, n.length), Q)
  const distinct = [...new Set(needles)]
  let bits = 1 << 12
  while (bits < distinct.length * 32 && bits < 1 << 20) bits <<= 1
  const mask = bits - 1
  const bitmap = new Uint8Array(bits >> 3)
  const buckets = new Map<number, string[]>()
  for (const n of distinct) {
    const h = hashAt(n, 0, q)
    bitmap[(h & mask) >> 3]! |= 1 << (h & 7)
    const b = buckets.get(h)
    if (b === undefined) buckets.set(h, [n])
    else b.push(n)
  }
  let top = 1
  for (let k = 0; k < q - 1; k++) top = Math.imul(top, 31)
  return {q, top, mask, bitmap, buckets}
}

function hashAt(s: string, i: number, q: number): number {
  let h = 0
  for (let k = 0; k < q; k++) h = (Math.imul(h, 31) + s.charCodeAt(i + k)) | 0
  return h
}

/** Whether some needle of `s` occurs in `text`. */
function holdsAny(s: Search, text: string): boolean {
  const {q, top, mask, bitmap, buckets} = s
  if (text.length < q) return false
  let h = hashAt(text, 0, q)
  for (let i = 0; ; i++) {
    if ((bitmap[(h & mask) >> 3]! & (1 << (h & 7))) !== 0) {
      const b = buckets.get(h)
      if (b !== undefined) for (const n of b) if (text.startsWith(n, i)) return true
    }
    if (i + q >= text.length) return false
    h = (Math.imul(h - Math.imul(text.charCodeAt(i), top), 31) + text.charCodeAt(i + q)) | 0
  }
}
