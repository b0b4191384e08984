/**
 * `regexCore` of the built-in DLP patterns, worked out at build time (bench: startup). The
 * §5.5 junction screen (subsequence.ts) needs the core of every DLP pattern when a scanner is
 * built; for the built-in patterns the answer never changes, yet the analysis (a parse of each
 * pattern and an RE2 compile of each core) was about a third of building a scanner, once per
 * start and once per agent profile. `npm run build` runs scripts/gen-regex-core-table.mjs, which
 * writes `builtinRegexCores()` beside this module as regex-core-table.json; `regexCoreOf` answers
 * from that table and computes anything else (configured patterns, or no table) as before.
 * test/unit/scanner/regex-core-table.test.ts checks the built table against the computation.
 */
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {CORE_DLP_PATTERNS, DEFAULT_DLP_PATTERNS} from './catalogue.js'
import {compileDlp} from './regex.js'
import {regexCore, type RegexCore} from './regex-core.js'

export interface RegexCoreTable {
  /** SHA-256 of the analysis module (regex-core.js) that computed it: a table outlives no change to it. */
  readonly analysis: string
  /** The `cap` the cores were computed with. */
  readonly cap: number
  /** Pattern source as compiled → its core (null: none). */
  readonly cores: Readonly<Record<string, RegexCore | null>>
}

/** The table for the built-in patterns (core floor and defaults), computed now. */
export function builtinRegexCores(cap: number): RegexCoreTable {
  const cores: Record<string, RegexCore | null> = {}
  for (const p of [...CORE_DLP_PATTERNS, ...DEFAULT_DLP_PATTERNS]) {
    const source = compileDlp(p.regex).source
    cores[source] = regexCore(source, cap)
  }
  return {analysis: analysisFingerprint(), cap, cores}
}

/** SHA-256 (hex) of the built regex-core.js beside this module. */
function analysisFingerprint(): string {
  return createHash('sha256').update(readFileSync(new URL('./regex-core.js', import.meta.url))).digest('hex')
}

/** The file the build writes (beside this module in dist/src). */
export const REGEX_CORE_TABLE_URL = new URL('./regex-core-table.json', import.meta.url)

/**
 * The built table, or null when there is none (a tree built without the generator step) or it
 * was computed by another version of the analysis (regex-core.ts changed and only tsc ran).
 */
export function readRegexCoreTable(): RegexCoreTable | null {
  try {
    const table = JSON.parse(readFileSync(REGEX_CORE_TABLE_URL, 'utf8')) as RegexCoreTable
    return table.analysis === analysisFingerprint() ? table : null
  } catch {
    return null
  }
}

/**
 * A lookup of `regexCore(source, cap)`: from `table` when it holds `source` for this `cap`,
 * computed otherwise.
 */
export function regexCoreLookup(table: RegexCoreTable | null): (source: string, cap: number) => RegexCore | null {
  return (source, cap) => (table !== null && table.cap === cap && Object.hasOwn(table.cores, source) ? table.cores[source]! : regexCore(source, cap))
}

/**
 * `regexCore` through the built table, read once: the §5.5 junction screen and the MCP
 * joined-text screens both ask for the built-in patterns' cores (cap 20), which the table holds
 * without a parse and an RE2 compile per pattern (≈ 55 programs built only to be thrown away).
 */
export const regexCoreOf: (source: string, cap: number) => RegexCore | null = regexCoreLookup(readRegexCoreTable())
