/**
 * Which of a request body's distinct texts text DLP (§6.1) is proven to find nothing in — no
 * enforced match, no `warn` match — each taken alone (issue 36). The rest must be scanned. It is
 * the joined-text screen's argument (`joined-text-screen.ts`) for a text with nothing joined to
 * it, without the junction machinery: the pattern steps are decided by the full DLP set over
 * the texts' forms as lines of one batch (the DLP line batch's `lineSafe` argument), instead of
 * by the patterns' cores and a per-text rescan.
 *
 * A text `x` is screened only when it is shorter than 512 units (`SCREENED_BELOW`), printable
 * ASCII without `%` or `+`, and every whole-text decoder (base64 ×4, hex, base32) rejects it
 * (`failsEveryWholeDecoding`). Then, per step of
 * `scanTextForDlp`:
 *  1, 4, 8. the AWS example strings, canaries and literal secrets: searched in `x` itself
 *     (`holdsNeedle`), as `forDlp(x) = forMatching(x) = iterativeDecode(x) = x`;
 *  2, 4, 5. patterns over `x`, `x` without dots and `x` without white space (the URL decoding is
 *     `x`): a form shorter than the engine's least match length cannot match; the others are
 *     written as lines of one batch and walked by the DLP set, bisected down to single lines
 *     where it hits (`hitting`) — a miss on a line is a miss on that form alone (`lineSafe`: no
 *     pattern anchors to the whole text, `\n` is a non-word character like a text's ends);
 *  3. seed phrase: `detect(x)`; no whole-text decoding exists, the URL one is `x`; segment
 *     decodings as in step 7;
 *  6. no whole-text decoding exists;
 *  7. each segment of ≥ 10 units other than `x` itself (`segmentMayFind`, which runs exactly the
 *     decodings, patterns and seed checks of steps 3 and 7 on it; once per distinct segment).
 * The body-scan differential test compares the request path with the former one, which scans
 * every text.
 */
import type {DlpEngine} from './dlp-engine.js'
import {failsEveryWholeDecoding, holdsNeedle, memoSegmentMayFind} from './joined-text-screen.js'
import {isPrintableAscii} from './normalize.js'
import {hitting} from './subsequence.js'
import {segmentsOfAtLeast} from './text-dlp.js'

/**
 * Texts from this length on are not screened (they are scanned): the screen's work on a text is
 * the scan's own walks (its three forms through the set, the seed detector), so on a long text
 * it saves little when it proves the text clean and doubles the work when it does not (a chat
 * request's prose messages: screening them cost more than scanning them; the texts of a JSON
 * product list are far shorter).
 */
const SCREENED_BELOW = 512

/** Printable ASCII with neither `%` nor `+` (its URL decoding is itself). */
function plainText(x: string): boolean {
  return isPrintableAscii(x) && !x.includes('%') && !x.includes('+')
}

/** The texts of `xs` proven to have no text DLP finding alone (see above). */
export function provenCleanAlone(engine: DlpEngine, xs: readonly string[]): Set<string> {
  const proven = new Set<string>()
  const set = engine.allSet
  if (set === null || !engine.lineBatchable) return proven
  const least = engine.minMatchLength
  const segmentMay = memoSegmentMayFind(engine)
  // The forms to walk, and the text each belongs to.
  const forms: string[] = []
  const owner: number[] = []
  const candidates: string[] = []
  for (const x of xs) {
    // The decoders' test first: it refuses most texts a decoder may accept (numbers, short tokens)
    // after a few units, and non-ASCII at once.
    if (x.length >= SCREENED_BELOW || !failsEveryWholeDecoding(x) || !plainText(x) || holdsNeedle(engine, x)) continue
    const k = candidates.push(x) - 1
    // In printable ASCII the only white space is ' ': `stripUnicodeWhitespace(x)` is x without it.
    const noDots = x.includes('.') ? x.replaceAll('.', '') : x
    const noSpace = x.includes(' ') ? x.replaceAll(' ', '') : x
    const add = (f: string): void => {
      if (f.length < least) return
      forms.push(f)
      owner.push(k)
    }
    add(x)
    if (noDots !== x) add(noDots)
    if (noSpace !== x && noSpace !== noDots) add(noSpace)
  }
  const hit = new Uint8Array(candidates.length)
  if (forms.length > 0) for (const i of hitting(forms, {set, window: 0}, engine.lines)) hit[owner[i]!] = 1
  // The seed and segment checks last, on the texts the set proved clean only: a text the set
  // keeps is scanned whatever they say, and the scan runs them again (issue 36).
  for (let k = 0; k < candidates.length; k++) {
    if (hit[k] === 1) continue
    const x = candidates[k]!
    if (engine.seed.active && engine.seed.detect(x)) continue
    if (!segmentsOfAtLeast(x, 10).some((seg) => seg !== x && segmentMay(seg))) proven.add(x)
  }
  return proven
}
