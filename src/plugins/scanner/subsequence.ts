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
import type {ByteLines} from './byte-lines.js'
import {isPrintableAscii} from './normalize.js'
import {regexCoreOf} from './regex-core-table.js'
import {compileSet, setMatches, type Re2Set} from './pattern-set.js'
import {compileDlp} from './regex.js'

/** At most this many values take part (§5.5). */
export const SUBSEQUENCE_MAX_VALUES = 20

/**
 * Target length of the cores: shorter windows mean shorter chains (and fewer, since a chain's
 * middles must fit), longer cores fewer false hits. Measured on the bench URLs.
 */
export const JUNCTION_CORE_CAP = 20

/** Joined chains per set pass. */
const BATCH_CHARS = 16384

export interface JunctionScreen {
  /** RE2::Set of the cores of the patterns not in `runs`. */
  readonly set: Re2Set
  /** No core match is longer (code points). */
  readonly window: number
  /** The patterns screened by the runs of a character class instead (`RunRule`); none when absent. */
  readonly runs?: readonly RunRule[]
}

/**
 * A pattern whose every match, in printable ASCII, is a maximal run of one character class of
 * `min` to `max` characters, or lies in such a run of at least `min` (`max` Infinity). Its core
 * (20 characters of that class) would match most junctions of random values, and keep their
 * concatenations (issue 36: a URL with 20 query values of 12 random letters and digits was 12 ms
 * of scanning); the runs across values are counted instead (`valueRun`, `stepRun`).
 */
export interface RunRule {
  /** 1 for the class's ASCII characters. */
  readonly cls: Uint8Array
  readonly min: number
  readonly max: number
}

const classOf = (re: RegExp): Uint8Array => Uint8Array.from({length: 128}, (_, c) => (re.test(String.fromCharCode(c)) ? 1 : 0))

/**
 * The run rules, by the exact pattern each was derived from (compiled as DLP patterns are: `(?i)`).
 * A catalogue pattern whose text changes no longer matches its rule, and gets its core back.
 * - Bitcoin WIF Private Key: a match is 51 or 52 characters of `[1-9A-HJ-NP-Za-km-z]`, which
 *   case-insensitively is `[1-9A-Za-z]` in ASCII (`I`, `O` and `l` fold in; `0` does not).
 * - IBAN: `\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`: 15 to 34 letters and digits with a word boundary on
 *   both sides — a whole maximal run of word characters (`[0-9A-Za-z_]`, RE2's ASCII `\w`).
 * - Credit Card Number: `\b\d{4}(?:[- ]?\d){11,15}\b`: at least 15 digits with single `-` or
 *   space between them, so every match lies in a run of `[0-9 -]` of at least 15. Its core
 *   (twelve digits) matched hex identifiers, whose digit runs letters cut short: a URL of 20
 *   md5-hex query values kept every concatenation holding such a value (bench: url-scan).
 */
const RUN_RULES: ReadonlyArray<readonly [string, RunRule]> = [
  ['(?:5[1-9A-HJ-NP-Za-km-z]{50}|[KL][1-9A-HJ-NP-Za-km-z]{51})', {cls: classOf(/[1-9A-Za-z]/), min: 51, max: Infinity}],
  ['\\b[A-Z]{2}\\d{2}[A-Z0-9]{11,30}\\b', {cls: classOf(/\w/), min: 15, max: 34}],
  ['\\b\\d{4}(?:[- ]?\\d){11,15}\\b', {cls: classOf(/[0-9 -]/), min: 15, max: Infinity}],
]

/** The screen for these pattern sources (as compiled), or null when one of them has no core. */
export function buildJunctionScreen(sources: readonly string[]): JunctionScreen | null {
  const rules = new Map(RUN_RULES.map(([regex, rule]) => [compileDlp(regex).source, rule]))
  let window = 1
  const cores: string[] = []
  const runs: RunRule[] = []
  for (const src of sources) {
    const rule = rules.get(src)
    if (rule !== undefined) {
      runs.push(rule)
      continue
    }
    const c = regexCoreOf(src, JUNCTION_CORE_CAP)
    if (c === null) return null
    cores.push(c.source)
    window = Math.max(window, c.maxLen)
  }
  // Without a core there is nothing to walk the chains with: no screen (every target is kept).
  const set = cores.length === 0 ? null : compileSet(cores)
  return set === null ? null : {set, window, runs}
}

/**
 * One value's runs of a rule's class: its length; all of it in the class; its leading and
 * trailing runs; a maximal run inside it (not at either end) in the rule's range.
 */
interface ValueRun {
  readonly len: number
  readonly whole: boolean
  readonly pre: number
  readonly suf: number
  readonly inner: boolean
}

function inRange(n: number, r: RunRule): boolean {
  return n >= r.min && n <= r.max
}

function valueRun(v: string, r: RunRule): ValueRun {
  let pre = 0
  while (pre < v.length && r.cls[v.charCodeAt(pre)] === 1) pre++
  if (pre === v.length) return {len: v.length, whole: true, pre, suf: pre, inner: false}
  let suf = 0
  while (suf < v.length && r.cls[v.charCodeAt(v.length - 1 - suf)] === 1) suf++
  let inner = false
  let run = 0
  for (let i = pre; i < v.length - suf && !inner; i++) {
    if (r.cls[v.charCodeAt(i)] === 1) run++
    else {
      inner = inRange(run, r)
      run = 0
    }
  }
  return {len: v.length, whole: false, pre, suf, inner: inner || inRange(run, r)}
}

/**
 * The length of the run still open after appending a value to a concatenation whose open run is
 * `cur` long — or −1 once a maximal run in the rule's range has closed (then the concatenation,
 * and any it starts, may match). A value wholly in the class lengthens the open run; otherwise its
 * leading run closes it, its inner runs are closed, and its trailing run opens the next.
 */
function stepRun(cur: number, v: ValueRun, r: RunRule): number {
  if (cur < 0) return -1
  if (v.whole) return cur + v.len
  return inRange(cur + v.pre, r) || v.inner ? -1 : v.suf
}

/**
 * Whether some concatenation of at most four of these values can hold a maximal run in the rule's
 * range: a value's inner run in it, or a run across values reaching its least length. Such a run
 * is one value's trailing run (all of it when the value is wholly in the class), at most two
 * whole values, then one value's leading run — at most the longest of each. URLs of words and
 * numbers (`alpha-12345`: no whole value, runs of 5) stay far below both rules and fold nothing
 * per concatenation.
 */
function runsMayReach(vr: readonly ValueRun[], r: RunRule): boolean {
  let suf = 0
  let pre = 0
  const wholes: number[] = []
  for (const x of vr) {
    if (x.inner) return true
    suf = Math.max(suf, x.suf)
    pre = Math.max(pre, x.pre)
    if (x.whole) wholes.push(x.len)
  }
  wholes.sort((a, b) => b - a)
  return suf + (wholes[0] ?? 0) + (wholes[1] ?? 0) + pre >= r.min
}

/** Whether a concatenation whose state is `cur` (`stepRun`) holds a maximal run in the rule's range, its last run closed by its end. */
function runCloses(cur: number, r: RunRule): boolean {
  return cur < 0 || inRange(cur, r)
}

/** Indices of `texts` in which some core matches (undecidable passes count as hits). */
export function hitting(texts: readonly string[], screen: JunctionScreen, lines: ByteLines): number[] {
  lines.clear()
  for (const t of texts) {
    lines.write(t)
    lines.endLine()
  }
  const out: number[] = []
  probeLines(lines, screen.set, (i) => out.push(i))
  return out
}

/**
 * Calls `hit(i)`, in order, for every closed line of `lines` in which some entry of `set` matches
 * or a pass cannot tell. One pass per batch of about `BATCH_CHARS` bytes; a batch that is not
 * clean is split in halves, and so on down to single lines — but where both halves of a split
 * hit, their lines are passed one by one: halving reads every byte again at each level, which on
 * batches where most lines hit (hex values — a URL's query values, a JSON body's identifiers —
 * whose IBAN and card screens match most junctions) cost several times one pass per line. The
 * entries have no assertions, so a match in a line alone is a match in any batch holding it: a
 * clean batch has only clean lines, and each line's outcome is that of a pass over it alone,
 * however the lines are batched.
 */
function probeLines(lines: ByteLines, set: Re2Set, hit: (line: number) => void): void {
  /** Whether lines `lo…hi−1` may hold a match. */
  const mayHit = (lo: number, hi: number): boolean => {
    const r = setMatches(set, lines.view(lo, hi))
    return r === null || r.length > 0
  }
  /** Lines `lo…hi−1`, known not clean: each hit line reported. */
  const resolve = (lo: number, hi: number): void => {
    if (hi - lo === 1) {
      hit(lo)
      return
    }
    const mid = (lo + hi) >> 1
    const left = mayHit(lo, mid)
    const right = mayHit(mid, hi)
    if (left && right) {
      singly(lo, mid)
      singly(mid, hi)
      return
    }
    if (left) resolve(lo, mid)
    if (right) resolve(mid, hi)
  }
  /** Lines `lo…hi−1`, known not clean, each passed alone. */
  const singly = (lo: number, hi: number): void => {
    if (hi - lo === 1) hit(lo)
    else for (let i = lo; i < hi; i++) if (mayHit(i, i + 1)) hit(i)
  }
  const probe = (lo: number, hi: number): void => {
    if (mayHit(lo, hi)) resolve(lo, hi)
  }
  let lo = 0
  for (let i = 0; i < lines.count; i++) {
    if (lines.lineEnd(i) + 1 - lines.lineStart(lo) >= BATCH_CHARS) {
      probe(lo, i + 1)
      lo = i + 1
    }
  }
  if (lo < lines.count) probe(lo, lines.count)
}

/** Which values and chains hit, or null when nothing did. */
interface Hits {
  readonly value: Uint8Array
  readonly pair: Uint8Array
  readonly triple: Uint8Array
  readonly quad: Set<number>
}

/**
 * Values and chains are lines of `lines` (printable ASCII: one byte per code unit); a chain is
 * copied from its values' lines, so no chain string is built. Line tags: value i → i; pair →
 * n + a·n + b; triple → n + n² + (a·n + b)·n + c; quad → −(((a·n + b)·n + c)·n + d) − 1.
 */
function junctionHits(v: readonly string[], screen: JunctionScreen, lines: ByteLines): Hits | null {
  const n = v.length
  const w = screen.window
  lines.clear()
  for (let i = 0; i < n; i++) {
    lines.write(v[i]!)
    lines.endLine(i)
  }
  const tail = (i: number, k: number): void => {
    const e = lines.lineEnd(i)
    const s = Math.max(lines.lineStart(i), e - k)
    lines.copy(s, e, e - s)
  }
  const head = (i: number, k: number): void => {
    const s = lines.lineStart(i)
    const e = Math.min(lines.lineEnd(i), s + k)
    lines.copy(s, e, e - s)
  }
  const whole = (i: number): void => lines.copy(lines.lineStart(i), lines.lineEnd(i), v[i]!.length)
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      tail(a, w - 1)
      head(b, w - 1)
      lines.endLine(n + a * n + b)
      const mb = v[b]!.length
      if (mb > w - 2) continue
      for (let c = b + 1; c < n; c++) {
        const k3 = w - 1 - mb
        tail(a, k3)
        whole(b)
        head(c, k3)
        lines.endLine(n + n * n + (a * n + b) * n + c)
        const mc = mb + v[c]!.length
        if (mc > w - 2) continue
        const k4 = w - 1 - mc
        for (let d = c + 1; d < n; d++) {
          tail(a, k4)
          whole(b)
          whole(c)
          head(d, k4)
          lines.endLine(-(((a * n + b) * n + c) * n + d) - 1)
        }
      }
    }
  }
  let h: Hits | null = null
  probeLines(lines, screen.set, (i) => {
    h ??= {value: new Uint8Array(n), pair: new Uint8Array(n * n), triple: new Uint8Array(n * n * n), quad: new Set<number>()}
    const key = lines.tagOf(i)
    if (key < 0) h.quad.add(-key - 1)
    else if (key < n) h.value[key] = 1
    else if (key < n + n * n) h.pair[key - n] = 1
    else h.triple[key - n - n * n] = 1
  })
  return h
}

/**
 * The subsequence targets of `values` (the query values, decoded, in order) that can hold a
 * DLP match, normalised by `normalize`, distinct, in enumeration order. Without a screen (or
 * with a value that is not printable ASCII) every target is returned. `parts`, when given, gets
 * each target's value indices (its first way of being made), for judging a hit across them.
 */
export function subsequenceTexts(
  values: readonly string[], screen: JunctionScreen | null, lines: ByteLines, normalize: (s: string) => string, parts?: Map<string, readonly number[]>,
): string[] {
  if (values.length < 3) return []
  const v = values.slice(0, SUBSEQUENCE_MAX_VALUES)
  const n = v.length
  let h: Hits | null = null
  const screened = screen !== null && v.every(isPrintableAscii)
  // The rules whose runs can reach their range in some concatenation, each value's runs per rule.
  const rules: RunRule[] = []
  const runs: ValueRun[][] = []
  for (const r of screened ? screen.runs ?? [] : []) {
    const vr = v.map((x) => valueRun(x, r))
    if (!runsMayReach(vr, r)) continue
    rules.push(r)
    runs.push(vr)
  }
  if (screened) {
    h = junctionHits(v, screen, lines)
    if (h === null && rules.length === 0) return []
  }
  const out = new Set<string>()
  const add = (t: string, ...of: number[]): void => {
    const text = screened ? t : normalize(t)
    if (parts !== undefined && !out.has(text)) parts.set(text, of)
    out.add(text)
  }
  // Per rule, the open run after the first one, two, three and four values (`stepRun`).
  const s1 = new Array<number>(rules.length)
  const s2 = new Array<number>(rules.length)
  const s3 = new Array<number>(rules.length)
  const s4 = new Array<number>(rules.length)
  const step = (into: number[], from: readonly number[] | null, k: number): boolean => {
    let closes = false
    for (let r = 0; r < rules.length; r++) {
      into[r] = stepRun(from === null ? 0 : from[r]!, runs[r]![k]!, rules[r]!)
      if (runCloses(into[r]!, rules[r]!)) closes = true
    }
    return closes
  }
  const all = !screened
  for (let a = 0; a < n; a++) {
    step(s1, null, a)
    for (let b = a + 1; b < n; b++) {
      // A core's hit in a value or run is in every longer concatenation holding it (`k2` → `k3`
      // → `k4`); a run rule's verdict is not inherited (a run open at the end may go on), but
      // read from each concatenation's own state.
      const r2 = step(s2, s1, b)
      const k2 = all || (h !== null && (h.value[a] === 1 || h.value[b] === 1 || h.pair[a * n + b] === 1))
      if (k2 || r2) add(v[a]! + v[b]!, a, b)
      for (let c = b + 1; c < n; c++) {
        const r3 = step(s3, s2, c)
        const k3 = k2 || (h !== null && (h.value[c] === 1 || h.pair[b * n + c] === 1 || h.triple[(a * n + b) * n + c] === 1))
        if (k3 || r3) add(v[a]! + v[b]! + v[c]!, a, b, c)
        for (let d = c + 1; d < n; d++) {
          const r4 = step(s4, s3, d)
          const k4 = k3 || (h !== null && (h.value[d] === 1 || h.pair[c * n + d] === 1 || h.triple[(b * n + c) * n + d] === 1 || h.quad.has(((a * n + b) * n + c) * n + d)))
          if (k4 || r4) add(v[a]! + v[b]! + v[c]! + v[d]!, a, b, c, d)
        }
      }
    }
  }
  return [...out]
}
