/**
 * Texts the URL scan reads joined across the separators that cut them (url-targets.ts): the host
 * name without its `-`, `_` and `.` (`akiaiosf-odnn7….example.com`), and the path's last segment
 * followed by the query's names and values without `?`, `=` and `&` (`/AKIAIOSF?ODNN7…`). A key
 * cut by one of them is whole only there.
 *
 * Ordinary names and words join into long runs of letters and digits as well, and a pattern with
 * no left boundary then matches across joins that hold no key: `AWS Access ID` (a prefix such as
 * `ASIA` or `ANVA`, then 16 letters or digits) in `asia-northeast1-docker.pkg.dev`,
 * `….asia-southeast1.firebasedatabase.app`, `southeastasia-1.in.applicationinsights.azure.com` or
 * `/canvas?page=2&sort=name`. In each the prefix ends its piece, or runs a letter or three into
 * it. So a hit in a joined text counts only when its first `JOINT_HEAD` characters were written
 * together, in one piece: where a hit has a cut among them, that separator is put back and the
 * text is read again (`guardedJoint`). A key whose first eight characters stand together is
 * found however the rest is cut (`AKIAIOSF-ODNN7…`); one cut among its first eight characters is
 * not (docs/security.md, known limits).
 */
import {matchingPatterns, type DlpEngine} from './dlp-engine.js'
import {isExemptFor, matchDlpPattern} from './dlp-patterns.js'
import type {Normalizer} from './normalize.js'

/** How many leading characters of a hit in a joined text must stand in one piece. */
export const JOINT_HEAD = 8

/** A separator taken out of a joined text: it stood before `text[at]`. */
export interface Cut {
  readonly at: number
  readonly sep: string
}

/** A joined text and its cuts, in ascending order of `at` (one per offset). */
export interface Joint {
  readonly text: string
  readonly cuts: readonly Cut[]
}

/** Appends a cut, merged with the last one when at the same offset (separators side by side). */
export function pushCut(cuts: Cut[], at: number, sep: string): void {
  const last = cuts[cuts.length - 1]
  if (last !== undefined && last.at === at) cuts[cuts.length - 1] = {at, sep: last.sep + sep}
  else cuts.push({at, sep})
}

/**
 * `host` without its `-`, `_` and `.`, with where they were; null when the host has no `-` or `_`
 * (the dot-collapsed host, a target of its own, is that text already).
 */
export function hostJoint(host: string): Joint | null {
  if (!host.includes('-') && !host.includes('_')) return null
  let text = ''
  const cuts: Cut[] = []
  for (let i = 0; i < host.length; i++) {
    const c = host[i]!
    if (c === '-' || c === '_' || c === '.') pushCut(cuts, text.length, c)
    else text += c
  }
  return {text, cuts}
}

/**
 * The cuts of `text` at their places in `norm`, its `forDlp` form: the same offsets when the
 * normalisation left the text as it was (printable ASCII: every host, nearly every URL), else the
 * length of the normalised text before each cut.
 */
export function normalisedCuts(normalizer: Pick<Normalizer, 'forDlp'>, text: string, norm: string, cuts: readonly Cut[]): readonly Cut[] {
  if (norm === text) return cuts
  const out: Cut[] = []
  for (const c of cuts) pushCut(out, Math.min(norm.length, normalizer.forDlp(text.slice(0, c.at)).length), c.sep)
  return out
}

/**
 * `text` (a joined text, normalised) with the separators put back that a hit's first
 * `JOINT_HEAD` characters would cross: every hit left in the answer starts with that many
 * characters of one piece (or is that short and in one piece), or crosses a put-back separator
 * as the URL spelt it. A text without a hit of any pattern is answered as it is, so a scan that
 * proves the plain join clean has proved the answer clean. `host`: a pattern exempt there is
 * not read (as the scan skips it).
 */
export function guardedJoint(dlp: DlpEngine, text: string, cuts: readonly Cut[], host?: string): string {
  let open = cuts.filter((c) => c.at > 0 && c.at < text.length)
  while (open.length > 0) {
    const cand = matchingPatterns(dlp, text)
    if (cand !== null && cand.size === 0) return text
    let k = -1
    for (const p of dlp.all) {
      if ((cand !== null && !cand.has(p)) || isExemptFor(p, host)) continue
      const hit = matchDlpPattern(p, text)
      if (hit === null) continue
      const head = hit.index + Math.min(JOINT_HEAD, hit.length)
      k = open.findIndex((c) => c.at > hit.index && c.at < head)
      if (k >= 0) break
    }
    if (k < 0) return text
    const back = open[k]!
    text = text.slice(0, back.at) + back.sep + text.slice(back.at)
    open = open.filter((_, i) => i !== k).map((c) => (c.at > back.at ? {at: c.at + back.sep.length, sep: c.sep} : c))
  }
  return text
}

/**
 * The host joined without its `-`, `_` and `.`, normalised and guarded (`guardedJoint`), as the
 * URL scan reads it; null when the host has no `-` or `_`. For the places that decide whether a
 * host may be echoed: they judge the host as the scan did.
 */
export function guardedHostJoint(dlp: DlpEngine, host: string): string | null {
  const j = hostJoint(host.toLowerCase())
  if (j === null) return null
  const norm = dlp.normalizer.forDlp(j.text)
  return guardedJoint(dlp, norm, normalisedCuts(dlp.normalizer, j.text, norm, j.cuts))
}
