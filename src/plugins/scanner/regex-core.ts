/**
 * Bounded, context-free "cores" of DLP regexes, for screens that must never miss a match
 * (the §5.5 subsequence screen). For a pattern R the core N satisfies, for every string s:
 *
 *   R matches somewhere in s  ⇒  N matches somewhere in s,
 *
 * N has no assertions (`^ $ \b \B \A \z`), so whether it matches a span does not depend on the
 * text around it, and every match of N is at most `maxLen` code points long. Both facts let a
 * caller look for N only near the places where strings were joined.
 *
 * How: R's top-level sequence (groups that are a plain sequence are inlined) is split into
 * elements `atom{min,max}`. The span of any match of R is the concatenation of one span per
 * element, so the spans of a contiguous run of elements form a match of that run standing
 * alone. A run whose inner elements are bounded and assertion-free is kept; at its two ends an
 * element `atom{min,…}` (even unbounded) contributes only its first (right end) or last (left
 * end) `t ≤ min` repetitions, which are also inside the match. Each atom keeps the flags it had
 * in R (rendered as `(?flags:atom)`), so it matches exactly what it matched there. The run with
 * the most literal characters under a length cap is chosen (selectivity only: any run is sound).
 * Top-level alternatives (and those of a group that is a whole alternative) get one run each,
 * joined by `|`.
 *
 * A small parser for the Go/RE2 syntax the catalogue and configs use; anything it does not
 * understand (`\Q…\E`, `\C`, back-references, odd group syntax) answers null, and the caller
 * must then not screen at all.
 */
import {compileAsWritten} from './regex.js'

export interface Flags {
  i: boolean
  m: boolean
  s: boolean
}

export type Atom =
  | {readonly kind: 'leaf'; readonly src: string; readonly flags: Flags; readonly weight: number}
  | {readonly kind: 'assert'}
  | {readonly kind: 'group'; readonly src: string; readonly flags: Flags; readonly alts: Elem[][]}

export interface Elem {
  readonly atom: Atom
  readonly min: number
  readonly max: number
}

class Unsupported extends Error {}

/**
 * The top-level alternatives of `source` (each a sequence of elements `atom{min,max}`), or null
 * when it is outside the syntax this parser understands. Each leaf atom matches exactly one code
 * point (a literal, `.`, a class, an escape); `assert` atoms match none.
 */
export function parseRegex(source: string): Elem[][] | null {
  try {
    const p = new Parser(source)
    const alts = p.alts({i: false, m: false, s: false})
    return p.i === source.length ? alts : null
  } catch {
    return null
  }
}

const LITERAL_WEIGHT = 4

function flagPrefix(f: Flags): string {
  const on = (f.i ? 'i' : '') + (f.m ? 'm' : '') + (f.s ? 's' : '')
  const off = (f.i ? '' : 'i') + (f.m ? '' : 'm') + (f.s ? '' : 's')
  return `(?${on}${off === '' ? '' : '-' + off}:`
}

class Parser {
  i = 0
  constructor(private readonly s: string) {}

  /** Alternatives up to a ')' (not consumed) or the end. Bare `(?flags)` change `flags` in place. */
  alts(flags: Flags): Elem[][] {
    const out: Elem[][] = [[]]
    while (this.i < this.s.length) {
      const c = this.s[this.i]!
      if (c === ')') break
      if (c === '|') {
        this.i++
        out.push([])
        continue
      }
      const atom = this.atom(flags)
      if (atom === null) continue // a bare flag group
      const q = this.quantifier()
      if (q !== null && atom.kind === 'assert') throw new Unsupported()
      out[out.length - 1]!.push({atom, min: q?.min ?? 1, max: q?.max ?? 1})
    }
    return out
  }

  private quantifier(): {min: number; max: number} | null {
    const s = this.s
    const c = s[this.i]
    let q: {min: number; max: number} | null = null
    if (c === '*') q = {min: 0, max: Infinity}
    else if (c === '+') q = {min: 1, max: Infinity}
    else if (c === '?') q = {min: 0, max: 1}
    if (q !== null) this.i++
    else if (c === '{') {
      const m = /^\{(\d+)(?:(,)(\d*))?\}/.exec(s.slice(this.i))
      if (m === null) return null // a literal '{' follows (Go): the next atom reads it
      const min = Number(m[1])
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3])
      q = {min, max}
      this.i += m[0].length
    } else return null
    if (s[this.i] === '?') this.i++ // non-greedy: same language
    const n = s[this.i]
    if (n === '*' || n === '+' || n === '?' || (n === '{' && /^\{\d+(,\d*)?\}/.test(s.slice(this.i)))) throw new Unsupported()
    return q
  }

  private atom(flags: Flags): Atom | null {
    const s = this.s
    const start = this.i
    const c = s[start]!
    if (c === '(') return this.group(flags)
    if (c === '[') {
      const end = this.classEnd(start)
      this.i = end + 1
      return {kind: 'leaf', src: s.slice(start, end + 1), flags: {...flags}, weight: s[start + 1] === '^' ? 0 : 1}
    }
    if (c === '^' || c === '$') {
      this.i++
      return {kind: 'assert'}
    }
    if (c === '.') {
      this.i++
      return {kind: 'leaf', src: '.', flags: {...flags}, weight: 0}
    }
    if (c === '*' || c === '+' || c === '?') throw new Unsupported()
    if (c === '\\') return this.escape(flags)
    const cp = s.codePointAt(start)!
    this.i += cp > 0xffff ? 2 : 1
    return {kind: 'leaf', src: s.slice(start, this.i), flags: {...flags}, weight: LITERAL_WEIGHT}
  }

  private escape(flags: Flags): Atom {
    const s = this.s
    const start = this.i
    const n = s[start + 1]
    if (n === undefined) throw new Unsupported()
    let end = start + 2
    let weight = LITERAL_WEIGHT
    if ('bBAz'.includes(n)) {
      this.i = end
      return {kind: 'assert'}
    }
    if ('dsw'.includes(n)) weight = 1
    else if ('DSW'.includes(n)) weight = 0
    else if (n === 'p' || n === 'P') {
      if (s[end] === '{') {
        const close = s.indexOf('}', end)
        if (close < 0) throw new Unsupported()
        end = close + 1
      } else end++
      weight = n === 'p' ? 1 : 0
    } else if (n === 'x') {
      if (s[end] === '{') {
        const close = s.indexOf('}', end)
        if (close < 0) throw new Unsupported()
        end = close + 1
      } else end += 2
    } else if (/[A-Za-z0-9]/.test(n) && !'aftnrv'.includes(n)) throw new Unsupported() // \Q, \C, back-references, octal…
    this.i = end
    return {kind: 'leaf', src: s.slice(start, end), flags: {...flags}, weight}
  }

  /** Index of the ']' closing the class opened at `start`. */
  private classEnd(start: number): number {
    const s = this.s
    let j = start + 1
    if (s[j] === '^') j++
    if (s[j] === ']') j++
    while (j < s.length && s[j] !== ']') {
      if (s.startsWith('[:', j)) {
        const close = s.indexOf(':]', j + 2)
        if (close < 0) throw new Unsupported()
        j = close + 2
      } else if (s[j] === '\\') {
        const n = s[j + 1]
        if ((n === 'p' || n === 'P' || n === 'x') && s[j + 2] === '{') {
          const close = s.indexOf('}', j + 3)
          if (close < 0) throw new Unsupported()
          j = close + 1
        } else j += 2
      } else j++
    }
    if (j >= s.length) throw new Unsupported()
    return j
  }

  private group(flags: Flags): Atom | null {
    const s = this.s
    let inner = {...flags}
    if (s.startsWith('(?', this.i)) {
      const fl = /^\(\?([ims]*)(?:-([ims]*))?([:)])/.exec(s.slice(this.i, this.i + 12))
      const named = /^\(\?P?<[A-Za-z0-9_]+>/.exec(s.slice(this.i, this.i + 200))
      if (fl !== null) {
        for (const f of fl[1]!) inner[f as keyof Flags] = true
        for (const f of fl[2] ?? '') inner[f as keyof Flags] = false
        this.i += fl[0].length
        if (fl[3] === ')') {
          Object.assign(flags, inner) // until the end of the enclosing group
          return null
        }
      } else if (named !== null) this.i += named[0].length
      else throw new Unsupported() // includes the ungreedy flag U and look-arounds
    } else this.i++
    inner = {...inner}
    const bodyStart = this.i
    const startFlags = {...inner}
    const alts = this.alts(inner)
    if (s[this.i] !== ')') throw new Unsupported()
    const body = s.slice(bodyStart, this.i)
    this.i++
    return {kind: 'group', src: `(?:${body})`, flags: startFlags, alts}
  }
}

interface Measure {
  readonly max: number
  readonly weight: number
  readonly assert: boolean
}

function measureAtom(a: Atom): Measure {
  if (a.kind === 'assert') return {max: 0, weight: 0, assert: true}
  if (a.kind === 'leaf') return {max: 1, weight: a.weight, assert: false}
  let max = 0
  let weight = Infinity
  let assert = false
  for (const alt of a.alts) {
    let m = 0
    let w = 0
    for (const e of alt) {
      const x = measureAtom(e.atom)
      m += e.max === 0 || x.max === 0 ? 0 : x.max * e.max
      w += x.weight * e.min
      assert ||= x.assert
    }
    max = Math.max(max, m)
    weight = Math.min(weight, w)
  }
  return {max, weight, assert}
}

/** Inlines groups that are one plain sequence repeated a fixed, small number of times. */
function flatten(seq: readonly Elem[]): Elem[] {
  const out: Elem[] = []
  for (const e of seq) {
    const a = e.atom
    if (a.kind === 'group' && a.alts.length === 1 && e.min === e.max && e.min >= 1 && e.min <= 4) {
      for (let k = 0; k < e.min; k++) out.push(...flatten(a.alts[0]!))
    } else out.push(e)
  }
  return out
}

function render(a: Atom): string {
  if (a.kind === 'assert') throw new Unsupported()
  return `${flagPrefix(a.flags)}${a.src})`
}

function repeat(min: number, max: number): string {
  if (min === 1 && max === 1) return ''
  return max === min ? `{${min}}` : `{${min},${max}}`
}

interface Run {
  readonly src: string
  readonly maxLen: number
  readonly weight: number
}

/** The best run of one alternative (see the file comment), or null when it has none. */
function bestRun(seq: readonly Elem[], cap: number): Run | null {
  const els = flatten(seq).map((e) => ({e, m: measureAtom(e.atom)}))
  let best: Run | null = null
  const better = (r: Run): void => {
    if (best === null || r.weight > best.weight || (r.weight === best.weight && r.maxLen < best.maxLen)) best = r
  }
  const endOk = (k: number): boolean => !els[k]!.m.assert && Number.isFinite(els[k]!.m.max) && els[k]!.e.min >= 1
  const fullOk = (k: number): boolean => !els[k]!.m.assert && (els[k]!.e.max === 0 || els[k]!.m.max === 0 || Number.isFinite(els[k]!.m.max * els[k]!.e.max))
  for (let i = 0; i < els.length; i++) {
    if (!endOk(i)) continue
    const li = els[i]!
    // A single element: t of its repetitions.
    {
      const per = Math.max(li.m.max, 1)
      const t = li.m.weight > 0 ? Math.max(1, Math.min(li.e.min, Math.floor(cap / per))) : 1
      better({src: render(li.e.atom) + repeat(t, t), maxLen: li.m.max * t, weight: li.m.weight * t})
    }
    let inner = ''
    let innerMax = 0
    let innerWeight = 0
    for (let j = i + 1; j < els.length; j++) {
      if (endOk(j)) {
        const rj = els[j]!
        // Both ends at one repetition, then the spare length to the end that weighs more per code point.
        let ti = 1
        let tj = 1
        let spare = cap - innerMax - li.m.max - rj.m.max
        if (spare >= 0) {
          const ends = [
            {w: li.m.weight, per: li.m.max, room: li.e.min - 1, set: (n: number) => (ti += n)},
            {w: rj.m.weight, per: rj.m.max, room: rj.e.min - 1, set: (n: number) => (tj += n)},
          ].sort((a, b) => b.w / Math.max(b.per, 1) - a.w / Math.max(a.per, 1))
          for (const end of ends) {
            if (end.w === 0) continue
            const n = Math.min(end.room, end.per === 0 ? end.room : Math.floor(spare / end.per))
            end.set(n)
            spare -= n * end.per
          }
          better({
            src: render(li.e.atom) + repeat(ti, ti) + inner + render(rj.e.atom) + repeat(tj, tj),
            maxLen: li.m.max * ti + innerMax + rj.m.max * tj,
            weight: li.m.weight * ti + innerWeight + rj.m.weight * tj,
          })
        }
      }
      if (!fullOk(j)) break
      const x = els[j]!
      inner += render(x.e.atom) + repeat(x.e.min, x.e.max)
      innerMax += x.e.max === 0 || x.m.max === 0 ? 0 : x.m.max * x.e.max
      innerWeight += x.m.weight * x.e.min
      if (innerMax > cap) break
    }
  }
  return best
}

/**
 * The alternatives, with an alternative that is one group of alternatives (`(?:a|b)`, as the
 * whole of it) replaced by those: each then gets its own run.
 */
function branches(alts: readonly Elem[][]): Elem[][] {
  const out: Elem[][] = []
  for (const alt of alts) {
    const flat = flatten(alt)
    const only = flat.length === 1 ? flat[0]! : null
    if (only !== null && only.atom.kind === 'group' && only.min === 1 && only.max === 1) out.push(...branches(only.atom.alts))
    else out.push(flat)
  }
  return out
}

export interface RegexCore {
  /** RE2 source of the core (compiled with the `u` flag, like every DLP pattern). */
  readonly source: string
  /** No match of `source` is longer than this many code points. */
  readonly maxLen: number
}

/**
 * The core of `source` (the pattern exactly as compiled, forced `(?i)` included), with a
 * target length `cap` (a single atom longer than the cap is still taken whole), or null when
 * the source is outside the supported syntax or some alternative has no usable run.
 */
export function regexCore(source: string, cap: number): RegexCore | null {
  try {
    const p = new Parser(source)
    const alts = p.alts({i: false, m: false, s: false})
    if (p.i !== source.length) return null
    const runs: Run[] = []
    for (const alt of branches(alts)) {
      const r = bestRun(alt, cap)
      if (r === null) return null
      runs.push(r)
    }
    const src = runs.length === 1 ? runs[0]!.src : runs.map((r) => `(?:${r.src})`).join('|')
    compileAsWritten(src) // must compile; a throw means "unsupported"
    return {source: src, maxLen: Math.max(...runs.map((r) => r.maxLen))}
  } catch {
    return null
  }
}
