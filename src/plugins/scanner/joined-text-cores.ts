/**
 * The screens of `joined-text-screen.ts`: per DLP pattern a bounded, assertion-free regex that
 * matches wherever the pattern has a *finding* (a regex hit its validator accepts). Without a
 * validator that is the pattern's core (`regexCore`). With one, a shape every accepted hit must
 * contain can be far more selective — the DLP regexes are compiled case-insensitively (§9.1),
 * so e.g. the WIF regex matches any long alphanumeric run, while the validator accepts only
 * real base58check strings:
 *  - `wif`: base58 decoding rejects any character outside the case-sensitive base58 alphabet,
 *    and the accepted body (0x80, 32 or 33 key bytes, 4 checksum bytes) is a number in
 *    [0x80·256³⁶, 0x81·256³⁶) — 51 digits, the first `5` — or in [0x80·256³⁷, 0x81·256³⁷) — 52
 *    digits, the first `K` or `L`, each led by the two digits `isKeyStart` allows (`validators.ts`,
 *    `mayValidateIn`). Every accepted hit is therefore `WIF_KEY_START`: `5H`/`5J`/`5K` and 49 more
 *    base58 characters, or `Kw`–`Kz`/`L1`–`L5` and 50. Space-free
 *    prose and long identifiers, which hold runs of 51 base58 characters, rarely hold that.
 *  - `mod97`: the hit, without spaces and dashes and upper-cased, starts with a country code of
 *    `IBAN_LENGTHS` and two digits. In a text with no space and no dash every accepted hit
 *    therefore holds `CC` + two digits contiguously — the *strict* screen, used only for texts
 *    with neither character.
 * `joined-text-cores.test` checks both shapes against generated valid values.
 */
import type {CompiledDlpPattern} from './dlp-patterns.js'
import {regexCoreOf} from './regex-core-table.js'
import {compileSet, type Re2Set} from './pattern-set.js'
import {IBAN_LENGTHS, WIF_KEY_START} from './validators.js'

/** Core length target, as for the §5.5 screen. */
const CORE_CAP = 20

export const WIF_SHAPE = WIF_KEY_START
export const WIF_SHAPE_LENGTH = 52
export const IBAN_STRICT_SHAPE = `(?i:${Object.keys(IBAN_LENGTHS).join('|')})[0-9]{2}`

export interface JoinedTextScreens {
  /** Entry i for pattern i of `all`; sound for any text. */
  readonly set: Re2Set
  /** The same with the strict shapes; sound only for texts holding no space and no dash. */
  readonly strict: Re2Set
  /** No match of either set is longer (code points). */
  readonly window: number
  /** No match of an entry other than the WIF shape is longer (code points). */
  readonly chainWindow: number
  /** Indices of the `wif` patterns (their entry is `WIF_SHAPE`, `WIF_SHAPE_LENGTH` long at most). */
  readonly wifEntries: readonly number[]
}

/** The fewest characters a `WIF_SHAPE` match spans (a `5`-led key: 51). */
export const WIF_SHAPE_MIN_LENGTH = 51

/** The screens for these patterns, or null when one of them has no bounded core. */
export function buildJoinedTextScreens(all: readonly CompiledDlpPattern[]): JoinedTextScreens | null {
  let window = 4
  let chainWindow = 4
  const wifEntries: number[] = []
  const plain: string[] = []
  const strict: string[] = []
  for (const p of all) {
    if (p.validator === 'wif') {
      wifEntries.push(plain.length)
      plain.push(WIF_SHAPE)
      strict.push(WIF_SHAPE)
      window = Math.max(window, WIF_SHAPE_LENGTH)
      continue
    }
    const c = regexCoreOf(p.source, CORE_CAP)
    if (c === null) return null
    window = Math.max(window, c.maxLen)
    chainWindow = Math.max(chainWindow, c.maxLen)
    plain.push(c.source)
    strict.push(p.validator === 'mod97' ? IBAN_STRICT_SHAPE : c.source)
  }
  const set = compileSet(plain)
  const strictSet = compileSet(strict)
  return set === null || strictSet === null ? null : {set, strict: strictSet, window, chainWindow, wifEntries}
}
