/**
 * Pass 3's candidates without walking pass 3's text (issue 36).
 *
 * Pass 3 (runtime.md §7) matches the patterns on `leetspeak(T)`, T being pass 1's text: each of
 * `0 1 3 4 5 7 @ $` replaced by the letter it stands for. The scan walked that text with the
 * pattern sets, a walk as long as pass 1's, only to learn which patterns can match there. This
 * module rewrites a pattern P into a *candidate source* P′ that reads T itself: every atom
 * accepting a character c also accepts every character the map turns into c (`o` becomes `[o0]`,
 * `\D` becomes `[\D013457]`). Then every match of P on leetspeak(T) is a match of P′ on T at
 * the same span, so one walk of T by a set holding the pair sources and the candidate sources
 * answers passes 1 and 4 exactly and pass 3 with a superset of its patterns; pass 3 then runs
 * only those patterns' own regexes on leetspeak(T), as before, so its matches are unchanged.
 *
 * Why the spans agree. The map turns one ASCII character into one ASCII character and never
 * makes or removes a line break, so lengths and `^`/`$`/`\A`/`\z` agree. A character and its image
 * are both word characters or both not, except for `@` and `$` (not word characters; their
 * images are letters), so `\b`, `\B`, `\w` and `\W` agree on every text that holds neither:
 * **a candidate source is only to be walked over such a text** (`leetCandidatesHold`). Each
 * character-consuming atom A is replaced by an atom accepting at least `{c : leetspeak(c) ∈ A}`
 * under the same flags; groups, alternation and repetition keep their shape. What the rewrite
 * cannot read (a look-around, `\Q…\E`, an unknown escape, a class opening with `]`) gives null:
 * that list keeps the walk of pass 3's text.
 */
import {leetspeak} from './normalize.js'
import {classEnd, escapeEnd} from './regex-syntax.js'

/** For each letter the map produces (either case, and `ſ`, which folds to `s`): the characters that become it. */
const SOURCES_OF = new Map<string, string>()
/** Every character the map changes (each once: written inside a class as they are). */
let CHANGED = ''
/** The changed characters whose image differs in being a word character (`@`, `$`). */
const WORD_CHANGERS: number[] = []
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  const image = leetspeak(ch)
  if (image === ch) continue
  CHANGED += ch
  for (const target of new Set([image.toLowerCase(), image.toUpperCase()])) SOURCES_OF.set(target, (SOURCES_OF.get(target) ?? '') + ch)
  if (/\w/.test(ch) !== /\w/.test(image)) WORD_CHANGERS.push(c)
}

/**
 * The changed characters whose images a case-insensitive class `[lo-hi]` reaches (the images are
 * ASCII letters; a non-ASCII one reaches them by simple case folding, `ſ` ~ `s`, the Unicode
 * table RE2 and JavaScript both fold by). Memoised: sources repeat their characters.
 */
function reachedSources(lo: number, hi: number): string {
  if (hi < 0x80) {
    let out = ''
    for (const [target, from] of SOURCES_OF) if (target.charCodeAt(0) >= lo && target.charCodeAt(0) <= hi) out += from
    return out
  }
  const key = `${lo}-${hi}`
  let out = REACHED.get(key)
  if (out === undefined) {
    const cls = new RegExp(`^[\\u{${lo.toString(16)}}-\\u{${hi.toString(16)}}]$`, 'iu')
    out = ''
    for (const [target, from] of SOURCES_OF) if (cls.test(target)) out += from
    REACHED.set(key, out)
  }
  return out
}
const REACHED = new Map<string, string>()

/** The changed digits: what `\D` gains (the map's images are letters, not digits). */
const CHANGED_DIGITS = CHANGED.replace(/[^0-9]/g, '')

/** Characters inside a class written as themselves, each once (none of them is special there). */
function classChars(s: string): string {
  return [...new Set(s)].join('')
}

/**
 * Whether a candidate source's answer holds on `text` (pass 1's bytes): it holds neither `@` nor
 * `$`, the map's sources that are not word characters.
 */
export function leetCandidatesHold(text: Uint8Array): boolean {
  for (const c of WORD_CHANGERS) if (text.indexOf(c) >= 0) return false
  return true
}

/** The code point an escape inside a class stands for when it is one character (`\.`, `\-`), else undefined. */
function escapedChar(token: string): string | undefined {
  return token.length === 2 && !/[0-9A-Za-z]/.test(token[1]!) ? token[1] : undefined
}

/** Added characters for a class's body, or null when it cannot be read. */
function classExtras(body: string): string | null {
  let extra = ''
  let k = 0
  // One item at `at`: a character (itself or escaped, `\.`), or an escape standing for a class (`\d`, `\pL`).
  const item = (at: number): {cp: number; end: number} | {escape: string; end: number} => {
    if (body[at] === '\\') {
      const end = escapeEnd(body, at)
      const token = body.slice(at, end)
      const ch = escapedChar(token)
      return ch === undefined ? {escape: token, end} : {cp: ch.codePointAt(0)!, end}
    }
    const cp = body.codePointAt(at)!
    return {cp, end: at + (cp > 0xffff ? 2 : 1)}
  }
  while (k < body.length) {
    if (body.startsWith('[:', k)) {
      // A POSIX class (`[:alpha:]`): whatever it names, every changed character may be read.
      const end = body.indexOf(':]', k + 2)
      if (end < 0) return null
      extra += CHANGED
      k = end + 2
      continue
    }
    const a = item(k)
    if ('escape' in a) {
      if (a.escape === '\\D') extra += CHANGED_DIGITS
      else if (!/^\\[dsSwWntrfv]$/.test(a.escape)) extra += CHANGED
      k = a.end
      continue
    }
    if (body[a.end] === '-' && a.end + 1 < body.length) {
      const b = item(a.end + 1)
      if ('escape' in b) return null
      extra += reachedSources(Math.min(a.cp, b.cp), Math.max(a.cp, b.cp))
      k = b.end
      continue
    }
    extra += reachedSources(a.cp, a.cp)
    k = a.end
  }
  return extra
}

/**
 * The candidate source of `source` (see the module comment), or null when it cannot be read.
 * Equal to `source` when the map changes nothing the pattern could read.
 */
export function leetCandidateSource(source: string): string | null {
  let out = ''
  let i = 0
  while (i < source.length) {
    const c = source[i]!
    if (c === '(') {
      if (source.startsWith('(?', i)) {
        const group = /^\(\?(?:[a-zA-Z-]*[:)]|P?<[A-Za-z_][A-Za-z0-9_]*>)/.exec(source.slice(i))
        if (group === null) return null
        out += group[0]
        i += group[0].length
        continue
      }
      out += c
      i++
      continue
    }
    if (c === '\\') {
      const end = escapeEnd(source, i)
      const token = source.slice(i, end)
      i = end
      if (/^\\[bBAzdsSwWntrfv]$/.test(token) || escapedChar(token) !== undefined) out += token
      else if (token === '\\D') out += `[\\D${CHANGED_DIGITS}]`
      else if (/^\\(?:[pP]|x|[0-7])/.test(token)) out += `(?:${token}|[${CHANGED}])`
      else return null
      continue
    }
    if (c === '[') {
      const end = classEnd(source, i)
      const negated = source[i + 1] === '^'
      const bodyFrom = i + (negated ? 2 : 1)
      if (source[bodyFrom] === ']' || source[end - 1] !== ']') return null
      const token = source.slice(i, end)
      i = end
      if (negated) {
        // `leetspeak(x) ∉ S` holds for x ∉ S unless x is changed: the changed characters are added.
        out += `(?:${token}|[${CHANGED}])`
        continue
      }
      const extra = classExtras(source.slice(bodyFrom, end - 1))
      if (extra === null) return null
      out += extra === '' ? token : `(?:${token}|[${classChars(extra)}])`
      continue
    }
    if (c === '{') {
      const repeat = /^\{\d+(?:,\d*)?\}/.exec(source.slice(i, i + 24))
      const token = repeat?.[0] ?? c
      out += token
      i += token.length
      continue
    }
    const cp = source.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    i += ch.length
    const extra = /[()|*+?^$.{}[\]]/.test(ch) ? '' : reachedSources(cp, cp)
    out += extra === '' ? ch : `[${ch}${classChars(extra)}]`
  }
  return out
}
