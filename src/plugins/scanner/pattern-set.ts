/**
 * RE2::Set over many sources (§22.2 "keyword pre-filter"), laid out so that its lazy DFA stays
 * small on real text.
 *
 * A set walks one DFA whose states are sets of positions in all its patterns at once. A pattern
 * with a wide bounded gap of any character (`\b(send|…)\b.{0,80}\b(password|…)\b`) keeps a counter
 * alive for each place in the gap, and in a set those counters combine with every other
 * pattern's positions: on prose, where the gap's keywords recur, the states multiply, RE2's DFA
 * cache fills and is thrown away again and again, and the walk runs at NFA speed. Measured on
 * 64 KiB slices of documentation and dependency READMEs taken in turn, the 48 response patterns
 * in one set took 10.5 ms a slice; without their ten gap patterns, 0.26 ms.
 *
 * So a pattern with a gap is not in the set that every text walks. What is there instead are its
 * guards: the parts of its source between its gaps (`\b(send|…)\b` and `\b(password|…)\b`), each
 * with the pattern's leading flags. Each is necessary: where the whole pattern matches, each part
 * matches the text that part matched, its assertions (`\b`, `^`) seeing the same neighbours. Only
 * when every guard of a gap pattern is found is the set holding that pattern walked; gap patterns
 * share sets of at most `GAP_SET_SIZE` (on prose, where most are found, two walks of five cost
 * less than ten walks of one: the body-scan floor 37 → 58 MB/s). A gap pattern whose parts cannot
 * be cut out safely (a gap inside a group, a top-level `|`, a flag changed midway) is unguarded:
 * its set, shared only with other unguarded ones, is walked on every text. Identical sources are
 * walked once.
 *
 * The answer is exactly one RE2::Set's over all the sources: the ascending indices of every
 * source that matches somewhere in the input. The layout changes only what is walked when.
 */
import RE2 from 're2'
import {classEnd, escapeEnd} from './regex-syntax.js'
import {SharedCompiled} from './shared-compiled.js'

/** What a pattern set answers; `match` throws when RE2 cannot decide (DFA memory exhausted). */
export interface Re2Set {
  match(input: string | Buffer): number[]
  /** The sources as RE2 reads them (the binding's `.source` of each), in the order given. */
  readonly sources: readonly string[]
}

/** At most this many gap patterns share a set. */
const GAP_SET_SIZE = 5

/** A bounded repeat of a broad class this wide or wider is a gap. */
const GAP_WIDTH = 16

export interface SetOptions {
  /**
   * Walk a long dense text (`isDenseText`: base64 and the like) with the main set's entries in
   * two sets. For sets of token patterns, whose states together overflow the DFA's cache on such
   * text (the DLP patterns); a set that does not (the injection sets) would only walk it twice.
   */
  readonly halvesOnDenseText?: boolean
}

/**
 * One pattern set over `sources`, each compiled exactly as the individual regex is (same source
 * string, same `u` flag, so the same translation and options). Null when a source does not
 * compile: callers then run every pattern on its own.
 */
export function compileSet(sources: readonly string[], options: SetOptions = {}): Re2Set | null {
  if (sources.length === 0) return null
  const halves = options.halvesOnDenseText === true
  // Shared (shared-compiled.ts): a set's answer is a function of its sources and options alone,
  // and a walk leaves nothing that changes the next (its DFA cache holds states of the same
  // automaton). `pipelock run` with 300 agent profiles of the same patterns compiled the DLP set
  // 300 times (≈ 6 ms and ≈ 0.6 MiB of RE2 program and DFA memory each).
  return compiledSets.get((halves ? 'h' : 'n') + JSON.stringify(sources), () => compileSetNow(sources, halves))
}

const compiledSets = new SharedCompiled<Re2Set>()

function compileSetNow(sources: readonly string[], halves: boolean): Re2Set | null {
  const whole = compileOneSet(sources, halves)
  if (whole !== null || sources.length < 2) return whole
  // RE2 refuses a set whose program outgrows its memory limit (about 700 DLP patterns with the
  // built-in ones): the engine then ran every pattern on every text, ≈ 15 times slower. Halves,
  // each compiled as a set of its own, answer together as the one set would; a source that does
  // not compile even alone still leaves no set.
  const h = sources.length >> 1
  const first = compileSetNow(sources.slice(0, h), halves)
  const second = first === null ? null : compileSetNow(sources.slice(h), halves)
  return first === null || second === null ? null : new SplitSet(first, second, h)
}

/** Two sets over consecutive halves of one source list, answering as one set over the list. */
class SplitSet implements Re2Set {
  readonly sources: readonly string[]

  constructor(private readonly first: Re2Set, private readonly second: Re2Set, private readonly offset: number) {
    this.sources = [...first.sources, ...second.sources]
  }

  match(input: string | Buffer): number[] {
    // Encoded once for both halves.
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input
    const a = this.first.match(bytes)
    const b = this.second.match(bytes)
    if (b.length === 0) return a
    const out = a.slice()
    for (const k of b) out.push(k + this.offset)
    return out
  }
}

function compileOneSet(sources: readonly string[], halves: boolean): Re2Set | null {
  try {
    const layout = setLayout(sources)
    if (!halves && layout.gapSets.length === 0 && layout.main.length === sources.length) return new RE2.Set(sources, 'u')
    try {
      return new GuardedSet(layout, halves)
    } catch {
      // A guard that does not compile alone: the gap patterns walked on every text instead.
      return new GuardedSet(setLayout(sources, false), halves)
    }
  } catch {
    return null
  }
}

/** One source of the set every text walks: the sources it answers for, and the gap patterns it guards. */
interface MainEntry {
  readonly source: string
  readonly indices: number[]
  readonly guards: number[]
}

/** A gap pattern: the sources it answers for, its set, how many distinct guards it has (0: unguarded). */
interface GapEntry {
  readonly source: string
  readonly indices: number[]
  readonly set: number
  readonly guards: number
}

export interface SetLayout {
  readonly main: readonly MainEntry[]
  readonly gaps: readonly GapEntry[]
  /** Per gap set, its gap entries. */
  readonly gapSets: readonly (readonly number[])[]
}

/** How `sources` are walked (exported for its tests); `guarded` false: no gap pattern guarded. */
export function setLayout(sources: readonly string[], guarded = true): SetLayout {
  const same = new Map<string, number[]>()
  for (let i = 0; i < sources.length; i++) {
    const indices = same.get(sources[i]!)
    if (indices === undefined) same.set(sources[i]!, [i])
    else indices.push(i)
  }
  const main: MainEntry[] = []
  const mainOf = new Map<string, MainEntry>()
  const entry = (source: string): MainEntry => {
    let e = mainOf.get(source)
    if (e === undefined) {
      e = {source, indices: [], guards: []}
      mainOf.set(source, e)
      main.push(e)
    }
    return e
  }
  const gaps: GapEntry[] = []
  const gapSets: number[][] = []
  // The sets unguarded [0] and guarded [1] gap patterns are being added to.
  const open: [number | null, number | null] = [null, null]
  for (const [source, indices] of same) {
    const parts = gapParts(source)
    if (parts === 'no gap') {
      entry(source).indices.push(...indices)
      continue
    }
    const g = gaps.length
    const guards = parts === null || !guarded ? [] : guardsOf(parts)
    for (const guard of guards) entry(guard).guards.push(g)
    // Guarded and unguarded patterns never share a set: an unguarded one is walked on every text.
    const kind = guards.length > 0 ? 1 : 0
    let set = open[kind]
    if (set === null || gapSets[set]!.length === GAP_SET_SIZE) {
      set = open[kind] = gapSets.length
      gapSets.push([])
    }
    gapSets[set]!.push(g)
    gaps.push({source, indices, set, guards: guards.length})
  }
  return {main, gaps, gapSets}
}

/**
 * The parts that guard a gap pattern: the first and the last that are more than a single atom.
 * A part found in nearly every text guards nothing and slows the walk of every text (a pattern
 * that matches all along a text multiplies the set's DFA states): a single atom is a common letter
 * (`(?i)[MN]`), an assertion alone (`\b`) anything, and a middle part between two gaps is as a
 * rule a common word (`\b(this|that|the)\b`). No guard left: the pattern is unguarded.
 */
function guardsOf(parts: readonly string[]): string[] {
  const strong = parts.filter((part) => !SINGLE_ATOM.test(part.replace(LEADING_FLAGS, '').split('\\b').join('')))
  return strong.length === 0 ? [] : [...new Set([strong[0]!, strong[strong.length - 1]!])]
}

const SINGLE_ATOM = /^(?:\[(?:\\.|[^\]\\])*\]|\\.|.)?$/su

/** A text at least this long is looked at for density (`isDenseText`) before the main set walks it. */
const DENSE_MIN = 8192

/** 1 for the units of base64 and base64url (letters, digits, `+`, `/`, `-`, `_`, `=`); 2 upper case; 4 lower case. */
const TOKEN_UNIT = new Uint8Array(256)
for (let c = 0; c < 256; c++) {
  const ch = String.fromCharCode(c)
  if (/[A-Za-z0-9+/=_-]/.test(ch)) TOKEN_UNIT[c] = 1 | (/[A-Z]/.test(ch) ? 2 : 0) | (/[a-z]/.test(ch) ? 4 : 0)
}

/**
 * Whether a long text reads as base64 (or another mixed-case token alphabet) in a good part of
 * it: at least 4 of 16 windows of 32 bytes spread over it hold only such units, upper and lower
 * case letters both. Reads 512 bytes whatever the length.
 */
export function isDenseText(bytes: Uint8Array): boolean {
  const windows = 16
  const width = 32
  let dense = 0
  for (let w = 0; w < windows; w++) {
    const from = Math.floor((w * (bytes.length - width)) / (windows - 1))
    let seen = 0
    let i = from
    for (; i < from + width; i++) {
      const k = TOKEN_UNIT[bytes[i]!]!
      if (k === 0) break
      seen |= k
    }
    if (i === from + width && (seen & 6) === 6 && ++dense >= 4) return true
  }
  return false
}

/** The layout's sets, answering as one RE2::Set over the sources. */
class GuardedSet implements Re2Set {
  private readonly main: InstanceType<typeof RE2.Set> | null
  /**
   * The main set's entries in two sets, for dense texts (`isDenseText`), built on first use. On
   * random base64 (a request's image), the case-insensitive token patterns (`gh[pousr]_…{36,}`,
   * `tok_…{40,}`, …) each keep counters alive all along the text, and together their states
   * overflow the DFA's cache: the 50 entries of the `balanced` main set walked 1 MiB of base64 in
   * 36-38 ms, each half in under 2 ms. On prose, JSON and hex one set walks at 800 MB/s and two
   * would take twice as long, so the halves are only for such texts, and only in sets that ask
   * for them (`SetOptions`: the injection sets walk base64 at 800 MB/s). Their answer is the same.
   */
  private halves: readonly [InstanceType<typeof RE2.Set>, InstanceType<typeof RE2.Set>] | undefined
  private readonly gapSets: ReadonlyArray<InstanceType<typeof RE2.Set>>
  private readonly unguardedSets: readonly number[]
  /** Guards found so far per gap entry, in the current `match` (reset on the way out). */
  private readonly found: Uint16Array
  readonly sources: readonly string[]

  constructor(private readonly layout: SetLayout, private readonly halvesOnDense = false) {
    this.main = layout.main.length === 0 ? null : new RE2.Set(layout.main.map((e) => e.source), 'u')
    this.gapSets = layout.gapSets.map((entries) => new RE2.Set(entries.map((g) => layout.gaps[g]!.source), 'u'))
    this.unguardedSets = [...new Set(layout.gaps.filter((g) => g.guards === 0).map((g) => g.set))]
    this.found = new Uint16Array(layout.gaps.length)
    const read: string[] = []
    layout.main.forEach((e, k) => {
      for (const i of e.indices) read[i] = this.main!.sources[k]!
    })
    layout.gapSets.forEach((entries, s) => entries.forEach((g, k) => {
      for (const i of layout.gaps[g]!.indices) read[i] = this.gapSets[s]!.sources[k]!
    }))
    this.sources = read
  }

  match(input: string | Buffer): number[] {
    // Encoded once, not once per set.
    const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input
    const {main, gaps} = this.layout
    const out: number[] = []
    let walk: Set<number> | null = null
    const armed: number[] = []
    if (this.main !== null) {
      for (const k of this.mainMatch(bytes)) {
        const e = main[k]!
        for (const i of e.indices) out.push(i)
        for (const g of e.guards) {
          if (++this.found[g]! === gaps[g]!.guards) (walk ??= new Set()).add(gaps[g]!.set)
          armed.push(g)
        }
      }
    }
    for (const g of armed) this.found[g] = 0
    for (const s of this.unguardedSets) (walk ??= new Set()).add(s)
    if (walk !== null) {
      for (const s of walk) {
        const entries = this.layout.gapSets[s]!
        for (const k of this.gapSets[s]!.match(bytes)) for (const i of gaps[entries[k]!]!.indices) out.push(i)
      }
    }
    return out.length > 1 ? out.sort((a, b) => a - b) : out
  }

  /** The main set's matches, ascending: by its two halves on a long dense text. */
  private mainMatch(bytes: Buffer): number[] {
    const main = this.layout.main
    if (!this.halvesOnDense || bytes.length < DENSE_MIN || main.length < 2 || !isDenseText(bytes)) return this.main!.match(bytes)
    const h = main.length >> 1
    const [a, b] = (this.halves ??= [new RE2.Set(main.slice(0, h).map((e) => e.source), 'u'), new RE2.Set(main.slice(h).map((e) => e.source), 'u')])
    return [...a.match(bytes), ...b.match(bytes).map((k) => k + h)]
  }
}

/**
 * Ascending indices of the set's sources that match somewhere in `input` — one DFA pass over the
 * text instead of one search per pattern (§22.2 "keyword pre-filter": it decides which patterns
 * can hit; the hits themselves, positions included, still come from each pattern's own regex).
 * Null when RE2 could not decide (DFA memory exhausted): the caller must then try every pattern.
 */
export function setMatches(set: Re2Set | null, input: string | Buffer): number[] | null {
  if (set === null) return null
  try {
    return set.match(input)
  } catch {
    return null
  }
}

const LEADING_FLAGS = /^(?:\(\?[imsU-]+\))*/u

/**
 * A source cut at its wide repeats: 'no gap' when none of them is a gap; else the parts between
 * its wide repeats, each with the source's leading flag groups, or null when they cannot be cut
 * out safely.
 *
 * A wide repeat is `{m,n}` or `{m,}` (lazy or not) with m ≥ GAP_WIDTH or n − m ≥ GAP_WIDTH. It is a
 * gap when what it repeats matches nearly any character (`.`, `\S`, `\W`, `\D`, a negated class,
 * a class naming a shorthand and its complement such as `[\s\S]`), or when at most one atom
 * precedes it in its branch (`[MN][A-Za-z0-9]{23,}`, `[a-z0-9]{51,52}`): a counter that starts at
 * almost any character and lives as long as the run it counts, which in text without spaces is
 * the whole text. Cut only at the top level of a source without a top-level `|` or a later flag
 * group: then the source is its parts and wide repeats in sequence, and every part is necessary.
 */
export function gapParts(source: string): string[] | null | 'no gap' {
  const flags = LEADING_FLAGS.exec(source)![0]
  const cuts: Array<[number, number]> = []
  let gap = false
  let depth = 0
  let safe = true
  // Atoms before this point in the current top-level branch (assertions do not count).
  let lead = 0
  let i = flags.length
  while (i < source.length) {
    const c = source[i]!
    const atom = i
    if (c === '\\') {
      i = escapeEnd(source, i)
      if (depth === 0 && !ASSERTIONS.has(source.slice(atom, i))) lead++
    } else if (c === '[') {
      i = classEnd(source, i)
      if (depth === 0) lead++
    } else if (c === '(') {
      if (/^\(\?[imsU-]+\)/u.test(source.slice(i))) safe = false
      depth++
      i++
      continue
    } else if (c === ')') {
      depth--
      i++
      // A group counts as two: it is usually a keyword or an alternation of them.
      if (depth === 0) lead += 2
    } else {
      i++
      if (c === '|' && depth === 0) {
        safe = false
        lead = 0
      } else if (depth === 0 && c !== '^' && c !== '$' && c !== '?' && c !== '*' && c !== '+') lead++
      if (c === '?' || c === '*' || c === '+') continue
    }
    const repeat = /^\{(\d+)(,(\d*))?\}\??/u.exec(source.slice(i, i + 24))
    if (repeat === null) continue
    const min = Number(repeat[1])
    const max = repeat[2] === undefined ? min : repeat[3] === '' ? Infinity : Number(repeat[3])
    if (wide(min, max) && c !== ')') {
      // `lead` counts the repeated atom itself.
      const isGap = broad(source.slice(atom, i)) || (depth === 0 && lead <= 2)
      gap ||= isGap
      // Cut at the top level only; a gap inside a group cannot be cut out.
      if (depth === 0) cuts.push([atom, i + repeat[0].length])
      else if (isGap) safe = false
    }
    i += repeat[0].length
  }
  if (!gap) return 'no gap'
  if (!safe) return null
  const parts: string[] = []
  let from = flags.length
  for (const [start, end] of [...cuts, [source.length, source.length] as [number, number]]) {
    if (start > from) parts.push(flags + source.slice(from, start))
    from = end
  }
  return parts.length === 0 ? null : parts
}

/** Zero-width escapes: not atoms for `gapParts`' count. */
const ASSERTIONS = new Set(['\\b', '\\B', '\\A', '\\z'])

/** Whether an atom matches (nearly) any character: `.`, `\S`/`\W`/`\D`, `[^…]`, `[\s\S]`-like. */
function broad(atom: string): boolean {
  if (atom === '.' || atom === '\\S' || atom === '\\W' || atom === '\\D') return true
  if (atom.startsWith('[^')) return true
  const pair = /^\[\\([sdw])\\([SDW])\]$|^\[\\([SDW])\\([sdw])\]$/u.exec(atom)
  return pair !== null && (pair[1] ?? pair[4])!.toUpperCase() === (pair[2] ?? pair[3])!.toUpperCase()
}

/** A counted repeat `{min,max}` wide enough to be cut (max Infinity: unbounded). */
function wide(min: number, max: number): boolean {
  return min >= GAP_WIDTH || (max !== Infinity && max - min >= GAP_WIDTH)
}
