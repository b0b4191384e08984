/**
 * Where a stretch of a text's matching form (`Normalizer.forMatching`: NFKC, confusables, marks
 * dropped, invisibles removed) stands in the text itself, so that `strip` cuts a match out of the
 * text the origin sent and leaves the rest of it as it was.
 *
 * The text is cut into segments that the normaliser reads on their own as it reads them inside
 * the whole: a code point with the marks, joiners, invisibles and Hangul vowel or final jamo
 * after it (all that NFKC composes with or the passes drop around it), or a run of plain ASCII
 * not followed by such a character. Each segment's own matching form is taken, and the forms
 * joined must equal the whole text's: when they do not (a composition across segments this cut
 * does not foresee), there is no map and the caller blocks.
 */

/** Characters read together with the code point before them. */
const JOINS =
  '\\p{M}\\u1160-\\u11ff\\ud7b0-\\ud7ff\\u034f\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufe00-\\ufe0f\\ufeff\\u{e0000}-\\u{e007f}\\u{e0100}-\\u{e01ef}'
const SEGMENTS = new RegExp(`[\\t\\n\\r\\x20-\\x7e]+(?![${JOINS}])|[^${JOINS}][${JOINS}]*|[${JOINS}]+`, 'gu')

/** A segment: its matching form starts at `norm`; it is `orig`..`origEnd` in the text; `same`: the form is the text itself. */
interface Segment {
  readonly norm: number
  readonly orig: number
  readonly origEnd: number
  readonly same: boolean
}

/** Maps `[start, end)` of the matching form to the smallest stretch of the text that holds it. */
export type OriginalSpan = (start: number, end: number) => {start: number; end: number}

/**
 * The map from `matching` (= `forMatching(text)`) back to `text`; null when the text cannot be
 * cut into segments whose forms join to `matching`.
 */
export function matchingToOriginal(text: string, matching: string, forMatching: (s: string) => string): OriginalSpan | null {
  if (matching === text) return (start, end) => ({start, end})
  const segs: Segment[] = []
  const forms = new Map<string, string>()
  let norm = 0
  let covered = 0
  for (const m of text.matchAll(SEGMENTS)) {
    const s = m[0]
    let f = forms.get(s)
    if (f === undefined) {
      f = forMatching(s)
      forms.set(s, f)
    }
    // The form must continue the whole text's form, else this cut reads the text otherwise.
    if (!matching.startsWith(f, norm)) return null
    const same = f === s
    const last = segs.at(-1)
    if (same && last !== undefined && last.same && last.origEnd === m.index) segs[segs.length - 1] = {...last, origEnd: m.index + s.length}
    else if (f.length > 0) segs.push({norm, orig: m.index, origEnd: m.index + s.length, same})
    norm += f.length
    covered += s.length
  }
  // Every unit of the text in some segment, and every unit of the form from one.
  if (covered !== text.length || norm !== matching.length) return null
  const at = (i: number): Segment => {
    let lo = 0
    let hi = segs.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (segs[mid]!.norm <= i) lo = mid
      else hi = mid - 1
    }
    return segs[lo]!
  }
  return (start, end) => {
    const a = at(start)
    const b = at(Math.max(start, end - 1))
    return {start: a.same ? a.orig + (start - a.norm) : a.orig, end: b.same ? b.orig + (end - b.norm) : b.origEnd}
  }
}
