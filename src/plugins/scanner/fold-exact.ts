/**
 * Case-exact groups in the vowel-folded pass (§7 pass 5). A pattern marks a word it must read
 * exactly with a scoped case-sensitive group: `(?-i:\bDAN\b)` in Jailbreak Attempt and Role
 * Override is the acronym, not the name Dan. Pass 5 folds every vowel of the text, so in its text
 * `DEN`, `DIN`, `DON` and `DUN` all read `DAN`: a flight from DEN, a sheet of DIN A4 or a random
 * binary body's text runs were reported as a jailbreak (and a request body carrying them was
 * refused). The reference's rewrite folds the group's flag to `(?-a:`, which does not compile, so
 * it runs no pass 5 for these patterns at all and misses `yuo are now DAN` too.
 *
 * Here the folded variant keeps its groups (`foldVowelsSource`), and a hit of it counts only when
 * each case-exact group it matched matches, as written, the same characters of the text as written
 * (pass 1): the rest of the pattern reads the folded text as before. Folding maps ASCII vowels to
 * ASCII vowels, one UTF-16 unit each, in the text and in the source alike, so an offset in the
 * folded text is the same offset in the text it was folded from, and a group's place in the folded
 * source is its place in the source.
 *
 * A group is checked on the text up to its end (`$` there): a group whose last character is no
 * word character and which ends in `\b` reads that end as the text's and is refused — a pass-5
 * hit lost, never a finding made (pass 1 still reads the text as written).
 */
import RE2 from 're2'
import {foldVowelsSource, type Re2} from './regex.js'

/** The name prefix of the captures around case-exact groups (no catalogue or user pattern names a group so). */
const EXACT = 'pipelockExact'

/**
 * Whether the flags of a group opener `(?flags:` turn case-insensitive matching off: `-i`,
 * `s-i`, `-is`, `m-si`.
 */
function turnsCaseOff(flags: string): boolean {
  const off = flags.indexOf('-')
  return off >= 0 && flags.slice(off + 1).includes('i')
}

/**
 * The `[start, end)` offsets of every case-exact group of `source`, in the order they open.
 * Escapes and character classes are read past (a `(` in `[(]` or `\(` opens nothing).
 */
export function exactGroupSpans(source: string): Array<readonly [number, number]> {
  const spans: Array<[number, number]> = []
  // One entry per open group: the index of its span, or -1.
  const open: number[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    if (c === '\\') {
      i += 2
      continue
    }
    if (c === '[') {
      // A class: `]` right after `[` or `[^` is a member; the class ends at the next unescaped `]`.
      let k = i + 1
      if (source[k] === '^') k++
      if (source[k] === ']') k++
      while (k < source.length && source[k] !== ']') k += source[k] === '\\' ? 2 : 1
      i = k + 1
      continue
    }
    if (c === '(') {
      const flags = /^\(\?([a-zA-Z-]*):/.exec(source.slice(i, i + 16))
      open.push(flags !== null && turnsCaseOff(flags[1]!) ? spans.push([i, -1]) - 1 : -1)
    } else if (c === ')') {
      const k = open.pop()
      if (k !== undefined && k >= 0) spans[k]![1] = i + 1
    }
    i++
  }
  return spans.filter(([, end]) => end > 0)
}

/** A folded variant's check of its case-exact groups. */
export interface FoldExact {
  /** The folded variant with each case-exact group captured by name (`d`: offsets; `y`: at the hit's start). */
  readonly re: Re2
  /** Per group, its name and its source as written, anchored at the end (`y`: at the group's start). */
  readonly groups: ReadonlyArray<{readonly name: string; readonly asWritten: Re2}>
}

/**
 * The check for the folded variant of `source` (the pattern as written); null when it has no
 * case-exact group or a check does not compile.
 */
export function compileFoldExact(source: string): FoldExact | null {
  const spans = exactGroupSpans(source)
  const folded = foldVowelsSource(source)
  if (spans.length === 0 || folded.length !== source.length) return null
  // Opening and closing marks at each offset (nested groups: the outer opens first and closes last).
  const opens = new Map<number, string[]>()
  const closes = new Map<number, number>()
  spans.forEach(([start, end], k) => {
    opens.set(start, [...(opens.get(start) ?? []), `(?P<${EXACT}${k}>`])
    closes.set(end, (closes.get(end) ?? 0) + 1)
  })
  let wrapped = ''
  for (let i = 0; i <= folded.length; i++) {
    wrapped += ')'.repeat(closes.get(i) ?? 0)
    for (const o of opens.get(i) ?? []) wrapped += o
    if (i < folded.length) wrapped += folded[i]
  }
  // A group read alone keeps the pattern's leading flags (`(?is)`: what `.` reads inside it).
  const lead = /^\(\?[a-zA-Z]+\)/.exec(source)?.[0] ?? ''
  try {
    return {
      re: new RE2(wrapped, 'uyd') as Re2,
      groups: spans.map(([start, end], k) => ({name: `${EXACT}${k}`, asWritten: new RE2(`${lead}(?:${source.slice(start, end)})$`, 'uy') as Re2})),
    }
  } catch {
    return null
  }
}

interface IndexedMatch {
  readonly index: number
  readonly indices?: {readonly groups?: Readonly<Record<string, readonly [number, number] | undefined>>}
}

type Exec = (this: Re2, s: string) => IndexedMatch | null

/**
 * Whether the folded variant's hit at `index` of `folded` stands: every case-exact group it
 * matched matches, as written, the same characters of `unfolded` (the text `folded` was folded
 * from). A hit the check cannot place is kept (a finding is never dropped for want of proof).
 */
export function foldHitExact(check: FoldExact, folded: string, unfolded: string, index: number): boolean {
  if (unfolded.length !== folded.length) return true
  const m = execAt(check.re, folded, index)
  if (m === null || m.index !== index) return true
  const at = m.indices?.groups
  if (at === undefined) return true
  for (const g of check.groups) {
    const span = at[g.name]
    if (span === undefined) continue
    const own = execAt(g.asWritten, unfolded.slice(0, span[1]), span[0])
    if (own === null || own.index !== span[0]) return false
  }
  return true
}

/** `re.exec(text)` from offset `at` (a sticky regex: a match starting there or none); the regex is left at 0. */
function execAt(re: Re2, text: string, at: number): IndexedMatch | null {
  re.lastIndex = at
  try {
    return (re.exec as unknown as Exec).call(re, text)
  } finally {
    re.lastIndex = 0
  }
}
