/**
 * The pieces of text DLP (§6.1) that cross-request detection's incremental window proof
 * (`cee/window-proof.ts`) needs to show, one fragment at a time, that `scanTextForDlp` over a
 * growing window has no finding — without running it over the whole window on every request.
 * Each is a fact about one step of `scanTextForDlp` (see that file's comment for the argument);
 * nothing here decides a verdict on its own.
 */
import {FindingSet, findCanary, runEngine, type DlpEngine} from './dlp-engine.js'
import {setMatches} from './pattern-set.js'
import {findLiteralSecret} from './secrets.js'
import {hitting} from './subsequence.js'

export {AWS_DOC_KEY, AWS_DOC_SECRET} from './text-dlp.js'
export {segmentMayFind} from './joined-text-screen.js'
export {isSeparator as isSeedSeparator, WINDOWS as SEED_WINDOWS} from './seed-phrase.js'
export {isPrintableAscii} from './normalize.js'
export {forDlpOfDecoded} from './decoded-text.js'

/** Whole-text decoders of `recursiveDecode` (base64 ×4, hex strict/normalised, base32), as bits. */
export const DEC_B64 = 1
export const DEC_HEX = 2
export const DEC_B32 = 4
export const DEC_ALL = DEC_B64 | DEC_HEX | DEC_B32

/**
 * Per ASCII code unit: the decoders that fail on any text holding it (each validates its whole
 * input against its alphabet). `=` counts as valid for base64 and base32 (padding), CR and LF
 * as valid for all (Go's decoders skip them): both only keep more texts. Every code unit ≥ 128
 * makes all three fail.
 */
const REJECTS = new Uint8Array(128)
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c)
  if (ch === '\r' || ch === '\n') continue
  const alnum = /[A-Za-z0-9]/.test(ch)
  let r = 0
  if (!(alnum || ch === '+' || ch === '/' || ch === '-' || ch === '_' || ch === '=')) r |= DEC_B64
  if (!(/[0-9a-fA-F]/.test(ch) || ch === '\\' || ch === 'x' || ch === 'X' || ch === ':' || ch === ' ' || ch === '-' || ch === ',')) r |= DEC_HEX
  if (!(/[A-Z2-7]/.test(ch) || ch === '=')) r |= DEC_B32
  REJECTS[c] = r
}

/** The decoders (bits) that fail on any text holding one of `s`'s code units. */
export function decoderRejects(s: string): number {
  let r = 0
  for (let i = 0; i < s.length && r !== DEC_ALL; i++) {
    const c = s.charCodeAt(i)
    r |= c < 128 ? REJECTS[c]! : DEC_ALL
  }
  return r
}

/**
 * The bounded core screen of every pattern of `engine.all` (`joined-text-cores.ts`): a text in
 * which no screen entry matches has no pattern finding (enforced or warn), and every screen
 * match is at most `window` code points long and assertion-free. Null: unavailable.
 */
export function coreScreenWindow(engine: DlpEngine): number | null {
  return engine.joinedTextScreens()?.window ?? null
}

/** Whether some core of the screen matches in one of `texts` (true also when it cannot tell). */
export function coreScreenHits(engine: DlpEngine, texts: readonly string[]): boolean {
  const s = engine.joinedTextScreens()
  if (s === null) return true
  return hitting(texts, {set: s.set, window: s.window}, engine.lines).length > 0
}

/** `coreScreenHits(engine, [tail + text])` without building the concatenation (`encodeJoined`). */
export function coreScreenHitsJoined(engine: DlpEngine, tail: string, text: string): boolean {
  const s = engine.joinedTextScreens()
  if (s === null) return true
  const r = setMatches(s.set, engine.encoder.encodeJoined(tail, text))
  return r === null || r.length > 0
}

/** Steps 2, 4 and 5 on printable-ASCII forms (text, no dots, no white space): any pattern finding, enforced or warn. */
export function patternsFindAnything(engine: DlpEngine, forms: readonly string[]): boolean {
  const out = new FindingSet()
  for (const form of new Set(forms)) runEngine(engine, engine.all, form, '', out)
  return out.enforcedCount > 0 || out.warnings.length > 0
}

/** The longest canary or literal-secret needle (0: none configured). */
export function longestNeedle(engine: DlpEngine): number {
  let n = 0
  for (const c of engine.canaries) for (const v of c.variants) n = Math.max(n, v.needle.length)
  for (const s of engine.literalSecrets) for (const v of s.variants) n = Math.max(n, v.needle.length)
  return n
}

/** Steps 4 and 8 on one haystack: a canary or a literal secret occurs in it. */
export function needleIn(engine: DlpEngine, haystack: string): boolean {
  return findCanary(engine.canaries, [haystack]) !== null || findLiteralSecret(engine.literalSecrets, [haystack]) !== null
}
