/**
 * The DLP engine: compiled core + configured patterns, normaliser, seed-phrase detector,
 * literal (env/file) secrets and canaries. Built once per settings snapshot; immutable after.
 */
import {createHash} from 'node:crypto'
import {compileConfiguredDlp, compileCoreDlp, isExemptFor, matchDlpPattern, type CompiledDlpPattern, type PatternHit} from './dlp-patterns.js'
import {createNormalizer, type Normalizer} from './normalize.js'
import {tableReading} from './pass-texts.js'
import type {Severity} from './pattern-types.js'
import {compileAsWritten, type Re2} from './regex.js'
import {compileSet, setMatches, type Re2Set} from './pattern-set.js'
import {buildLiteralSecrets, collectEnvSecrets, secretVariants, type LiteralSecret, type SecretVariant} from './secrets.js'
import {createSeedPhraseDetector, INACTIVE_SEED_PHRASE_DETECTOR, type SeedPhraseDetector} from './seed-phrase.js'
import type {ScannerSettings} from './settings.js'
import {buildJunctionScreen, type JunctionScreen} from './subsequence.js'
import {buildJoinedTextScreens, type JoinedTextScreens} from './joined-text-cores.js'
import {ByteLines} from './byte-lines.js'
import {DecodeScratch} from './decoders.js'
import {leastMatchLength} from './min-match-length.js'
import {WIF_KEY_START} from './validators.js'
import {Utf8Scratch} from './utf8-scratch.js'
import {SharedCompiled} from './shared-compiled.js'
import {needlesAbsent} from './needle-screen.js'

/** One DLP finding. Carries the pattern name and where it matched — never the matched text. */
export interface DlpFinding {
  readonly pattern: string
  readonly severity: Severity | 'info'
  /** True for the immutable core floor (label `core_dlp`). */
  readonly core: boolean
  /** Which decoding/target revealed it (`''` = as sent, `url`, `base64`, `hex`, `subdomain`, …). */
  readonly encoding: string
  /** `warn` patterns never block; they are informational. */
  readonly warn: boolean
  /** UTF-16 offset and length inside the scanned (normalised/decoded) target, when known. */
  readonly position?: number
  readonly length?: number
}

export interface CanaryVariants {
  readonly name: string
  readonly variants: readonly SecretVariant[]
}

export interface DlpEngine {
  readonly core: readonly CompiledDlpPattern[]
  readonly configured: readonly CompiledDlpPattern[]
  readonly normalizer: Normalizer
  readonly seed: SeedPhraseDetector
  readonly literalSecrets: readonly LiteralSecret[]
  readonly canaries: readonly CanaryVariants[]
  /**
   * Alternation of every core / core+configured pattern: a no-match skips the per-pattern loop.
   * Compiled on first read (getters): only the URL scan and a text whose set pass could not decide
   * read them, and the two programs are ≈ 1.4 MiB of malloc an MCP wrap never needs (bench: mcp).
   */
  readonly corePrefilter: Re2 | null
  readonly allPrefilter: Re2 | null
  /** Core then configured patterns; `allSet` entry i is `all[i]`. */
  readonly all: readonly CompiledDlpPattern[]
  /**
   * RE2::Set over `all` (entry i is `setSourceOf(all[i])`): one pass over a target says which
   * patterns can have a finding at all. Null = unavailable (then the alternation is used).
   */
  readonly allSet: Re2Set | null
  /** UTF-8 encoder into a reused scratch buffer (the set is fed bytes, not a JS string). */
  readonly encoder: Utf8Scratch
  /** Reused lines of bytes for the batched set passes (`byte-lines.ts`): screens, subsequence chains. */
  readonly lines: ByteLines
  /** Reused output buffer of the §5.6 candidate decoders (`candidateDecodings`). */
  readonly decodeScratch: DecodeScratch
  /**
   * True when every pattern in `all` matches in a line of text exactly where it matches in that
   * text alone (see `lineSafe`), so a set miss on texts joined by '\n' proves a miss on each.
   */
  readonly lineBatchable: boolean
  /**
   * The fewest code points any match of a pattern of `all` spans (`min-match-length.ts`; 0 when
   * unknown): a shorter target cannot match, so neither the set nor a pattern is run on it.
   * Worked out on first read (a getter): a parse of every pattern.
   */
  readonly minMatchLength: number
  /**
   * Proves most §5.5 subsequence targets clean without scanning them; null = scan them all.
   * Compiled on first read (a getter): only the URL scan reads it, and an MCP wrap never scans a URL (bench: mcp).
   */
  readonly junctionScreen: JunctionScreen | null
  /**
   * Proves most MCP split-secret pair texts clean without scanning them (`joined-text-screen.ts`).
   * Built on first call (compiling the screens costs start-up time no HTTP-only run needs), then
   * the same object; null = unavailable (every text is scanned).
   */
  readonly joinedTextScreens: () => JoinedTextScreens | null
}

/**
 * Whether a pattern's matches inside one line of a '\n'-joined text are exactly its matches in
 * that line alone, apart from extra matches across lines (harmless to a screen). That holds
 * unless it anchors to the whole text: `\A`/`\z`, or `^`/`$` outside a character class without
 * multi-line mode on for the whole pattern. `\b`/`\B` are safe: '\n' is a non-word character,
 * like the start and end of a text. Conservative: any doubt answers false.
 */
export function lineSafe(source: string): boolean {
  let anchors = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]
    if (c === '\\') {
      const n = source[i + 1]
      if (n === 'A' || n === 'z') return false
      i++
    } else if (c === '[') {
      // Skip the class: a leading '^' and a first ']' are literal parts of it.
      let j = i + 1
      if (source[j] === '^') j++
      if (source[j] === ']') j++
      while (j < source.length && source[j] !== ']') j += source[j] === '\\' ? 2 : 1
      i = j
    } else if (c === '^' || c === '$') anchors = true
  }
  if (!anchors) return true
  const lead = /^(?:\(\?[a-zA-Z]*\))+/.exec(source)?.[0] ?? ''
  return /\(\?[a-zA-Z]*m[a-zA-Z]*\)/.test(lead) && !/\(\?[a-zA-Z]*-[a-zA-Z]*m/.test(source)
}

/**
 * True only when it is certain that no pattern of `engine.all` matches anywhere in any of
 * `texts`: one RE2::Set pass over the texts joined by '\n' instead of one per text. False when
 * something may match or the set cannot decide; the caller then screens text by text.
 */
export function noPatternMatchesAny(engine: DlpEngine, texts: readonly string[]): boolean {
  if (!startNoMatchPass(engine)) return false
  for (const t of texts) if (!addToNoMatchPass(engine, t)) return false
  return noMatchInPass(engine)
}

/** Texts joined for one no-match pass are at most this long (longer ones are screened text by text). */
const NO_MATCH_PASS_MAX = 65536

/**
 * `noPatternMatchesAny` fed one text at a time, the texts written as lines of `engine.lines`
 * (the bytes of their '\n'-join; no joined string): start (false: the set cannot be used), add
 * each text (false once the texts are too long for one pass), then `noMatchInPass`.
 */
export function startNoMatchPass(engine: DlpEngine): boolean {
  if (engine.allSet === null || !engine.lineBatchable) return false
  engine.lines.clear()
  return true
}

export function addToNoMatchPass(engine: DlpEngine, text: string): boolean {
  const lines = engine.lines
  // Checked before writing: a huge text (a long URL is DLP-scanned before its length check) is never copied.
  if ((lines.count > 0 ? lines.joinedLength + 1 : 0) + text.length > NO_MATCH_PASS_MAX) return false
  lines.write(text)
  lines.endLine()
  return true
}

export function noMatchInPass(engine: DlpEngine): boolean {
  const idx = setMatches(engine.allSet, engine.lines.view(0, engine.lines.count))
  return idx !== null && idx.length === 0
}

/**
 * The set's entry for a pattern: its source exactly as its regex was compiled, except for a
 * `wif` pattern, whose entry is the shape every hit its validator accepts holds (`WIF_KEY_START`,
 * the same test as `mayValidateIn`): a miss of that entry proves the pattern has no finding in
 * the target, as a miss of its regex does. The forced case-insensitive WIF regex matches any run
 * of 51 letters and digits — every prose text without its white space (text DLP's step 5 form)
 * — so the set kept such texts and their scans ran the regex and the validator for nothing
 * (issue 36: every message of a chat request). A hit still runs the pattern itself.
 */
function setSourceOf(p: CompiledDlpPattern): string {
  return p.validator === 'wif' ? WIF_KEY_START : p.source
}

/**
 * One RE2 alternation over a pattern list. RE2 reports a match for the alternation iff some
 * alternative matches somewhere, so a miss proves no pattern can hit: an optimisation that can
 * never change a verdict (§25.10).
 */
function buildPrefilter(patterns: readonly CompiledDlpPattern[]): Re2 | null {
  if (patterns.length === 0) return null
  try {
    return compileAsWritten(patterns.map((p) => `(?:${p.source})`).join('|'))
  } catch {
    return null
  }
}

/**
 * The DLP engine of these settings, shared by every scanner whose DLP inputs are the same
 * (shared-compiled.ts): agent profiles that differ in mode, allowlists or limits but not in
 * patterns, secrets, canaries or seed-phrase settings use one engine, with one set of compiled
 * patterns and one of each screen built as texts need them. An engine's answer is a function of
 * those inputs alone; its scratch buffers are used within one synchronous call. The key is a
 * digest: it stands for the secrets it is made of without holding them in another string.
 */
export function createDlpEngine(settings: ScannerSettings): DlpEngine {
  return engines.get(dlpEngineKey(settings), () => buildDlpEngine(settings))
}

const engines = new SharedCompiled<DlpEngine>()

/** Everything `buildDlpEngine` reads of the settings, as a SHA-256 digest. */
function dlpEngineKey(settings: ScannerSettings): string {
  const {dlp, seedPhrase, canaryTokens} = settings
  return createHash('sha256').update(JSON.stringify([
    dlp.includeDefaults, dlp.patterns, dlp.scanEnv, dlp.minEnvSecretLength, dlp.scanEnv ? (dlp.env ?? null) : null, dlp.fileSecrets,
    seedPhrase.enabled, seedPhrase.minWords, seedPhrase.verifyChecksum, seedPhrase.wordList ?? null, canaryTokens,
  ])).digest('base64')
}

function buildDlpEngine(settings: ScannerSettings): DlpEngine {
  const env = settings.dlp.scanEnv && settings.dlp.env !== undefined
    ? collectEnvSecrets(settings.dlp.env, settings.dlp.minEnvSecretLength)
    : []
  const core = compileCoreDlp()
  const configured = compileConfiguredDlp(settings.dlp.includeDefaults, settings.dlp.patterns)
  const all = [...core, ...configured]
  const corePrefilter = lazily(() => buildPrefilter(core))
  const allPrefilter = lazily(() => buildPrefilter(all))
  const junctionScreen = lazily(() => buildJunctionScreen(all.map((p) => p.source)))
  const minMatchLength = lazily(() => leastMatchLength(all.map((p) => p.source)))
  return {
    core,
    configured,
    all,
    allSet: compileSet(all.map(setSourceOf), {halvesOnDenseText: true}),
    encoder: new Utf8Scratch(),
    lines: new ByteLines(),
    decodeScratch: new DecodeScratch(),
    lineBatchable: all.every((p) => lineSafe(p.source)),
    joinedTextScreens: lazily(() => buildJoinedTextScreens(all)),
    get corePrefilter() {
      return corePrefilter()
    },
    get allPrefilter() {
      return allPrefilter()
    },
    get junctionScreen() {
      return junctionScreen()
    },
    get minMatchLength() {
      return minMatchLength()
    },
    normalizer: createNormalizer(tableReading),
    seed: settings.seedPhrase.enabled
      ? createSeedPhraseDetector(settings.seedPhrase.wordList, settings.seedPhrase.minWords, settings.seedPhrase.verifyChecksum)
      : INACTIVE_SEED_PHRASE_DETECTOR,
    literalSecrets: buildLiteralSecrets(env, settings.dlp.fileSecrets),
    canaries: settings.canaryTokens.filter((c) => c.value !== '').map((c) => ({name: c.name, variants: secretVariants(c.value)})),
  }
}

/** `build()` on the first call, its result after. */
function lazily<T>(build: () => T): () => T {
  let done = false
  let value: T
  return () => {
    if (!done) {
      value = build()
      done = true
    }
    return value
  }
}

/** How many recent targets `FindingSet.ranBefore` remembers. */
const RAN_RING = 16

/** Collects findings, de-duplicated by (pattern, encoding), core first (§6.1 step 9). */
export class FindingSet {
  private readonly seen = new Set<string>()
  readonly core: DlpFinding[] = []
  readonly other: DlpFinding[] = []
  readonly warnings: DlpFinding[] = []
  /**
   * With `logged`, every finding this set took, in the order it took them (`added`): adding
   * them in that order to another set changes it exactly as the adds made here would have.
   */
  readonly added: DlpFinding[] | undefined

  constructor(logged = false) {
    this.added = logged ? [] : undefined
  }

  add(f: DlpFinding): void {
    const key = `${f.core ? 'c' : 'p'}\u0000${f.pattern}\u0000${f.encoding}`
    const dedupe = `${f.pattern}\u0000${f.encoding}`
    if (this.seen.has(dedupe) || this.seen.has(key)) return
    this.seen.add(dedupe)
    this.added?.push(f)
    if (f.warn) this.warnings.push(f)
    else if (f.core) this.core.push(f)
    else this.other.push(f)
  }

  get enforcedCount(): number {
    return this.core.length + this.other.length
  }

  /**
   * The last `RAN_RING` targets the whole pattern list ran over into this set (`runEngine`), as
   * encoding and text, oldest overwritten first.
   */
  private ran: string[] | undefined
  private ranAt = 0

  /**
   * Whether the whole pattern list ran over `text` with `encoding` into this set lately, marking
   * it as run when not. A second such run adds only what the first added, and this set keeps
   * everything added: nothing new, so `runEngine` returns 0 without running it. Text DLP reaches
   * the same target twice in one scan a few runs apart: a text's URL decoding in steps 5 and 6,
   * and each segment's decodings in step 7's candidate loop and again in its recursive decode.
   * A short ring, not a map: most scans are of short texts, which a map per scan slowed by 4 %.
   */
  ranBefore(encoding: string, text: string): boolean {
    const ran = (this.ran ??= new Array<string>(2 * RAN_RING).fill(''))
    for (let i = 0; i < ran.length; i += 2) if (ran[i + 1] === text && ran[i] === encoding) return true
    ran[this.ranAt] = encoding
    ran[this.ranAt + 1] = text
    this.ranAt = (this.ranAt + 2) % ran.length
    return false
  }

  enforced(): DlpFinding[] {
    return [...this.core, ...this.other]
  }
}

/** The finding of pattern `p`'s hit in a target read as `encoding`. */
export function findingOf(p: CompiledDlpPattern, encoding: string, hit: PatternHit): DlpFinding {
  return {pattern: p.name, severity: p.severity, core: p.core, encoding, warn: p.warn, position: hit.index, length: hit.length}
}

/** Runs a pattern list on one target; returns how many new enforced findings were added. */
export function runPatterns(
  patterns: readonly CompiledDlpPattern[],
  text: string,
  encoding: string,
  out: FindingSet,
  host?: string,
  prefilter?: Re2 | null,
): number {
  if (text.length === 0) return 0
  if (prefilter && !prefilter.test(text)) return 0
  const before = out.enforcedCount
  for (const p of patterns) {
    if (isExemptFor(p, host)) continue
    const hit = matchDlpPattern(p, text)
    if (hit === null) continue
    out.add(findingOf(p, encoding, hit))
  }
  return out.enforcedCount - before
}

/** No pattern can match. */
const NONE: ReadonlySet<CompiledDlpPattern> = new Set()

/**
 * The patterns of `engine.all` that match somewhere in `text` (per the RE2::Set), or null when
 * the set is unavailable or could not decide — then every pattern must be tried.
 */
export function matchingPatterns(engine: DlpEngine, text: string): ReadonlySet<CompiledDlpPattern> | null {
  if (engine.allSet === null) return null
  // Shorter than any match (code units ≥ code points): nothing can match.
  if (text.length < engine.minMatchLength || text.length === 0) return NONE
  return matchingPatternsOfBytes(engine, engine.encoder.encode(text))
}

/** `matchingPatterns` of the text whose UTF-8 bytes are `bytes` (for a caller that has them already). */
export function matchingPatternsOfBytes(engine: DlpEngine, bytes: Buffer): ReadonlySet<CompiledDlpPattern> | null {
  if (engine.allSet === null) return null
  // Shorter than any match (bytes ≥ code points): nothing can match.
  if (bytes.length < engine.minMatchLength || bytes.length === 0) return NONE
  const idx = setMatches(engine.allSet, bytes)
  if (idx === null) return null
  if (idx.length === 0) return NONE
  return new Set(idx.map((i) => engine.all[i]!))
}

/**
 * `runPatterns` with the set pre-filter: only patterns the set reports are run (in list order,
 * so findings and their order are unchanged). `candidates` may be passed when already known
 * for this exact text; otherwise it is computed. Without a set it is `runPatterns` with the
 * alternation pre-filter.
 */
export function runEngine(
  engine: DlpEngine,
  patterns: readonly CompiledDlpPattern[],
  text: string,
  encoding: string,
  out: FindingSet,
  host?: string,
  candidates?: ReadonlySet<CompiledDlpPattern> | null,
): number {
  // Shorter than any match (code units ≥ code points), with or without the set.
  if (text.length === 0 || text.length < engine.minMatchLength) return 0
  if (patterns === engine.all && host === undefined && out.ranBefore(encoding, text)) return 0
  const cand = candidates === undefined ? matchingPatterns(engine, text) : candidates
  if (cand === null) return runPatterns(patterns, text, encoding, out, host, patterns === engine.core ? engine.corePrefilter : engine.allPrefilter)
  if (cand.size === 0) return 0
  const before = out.enforcedCount
  for (const p of patterns) {
    if (!cand.has(p) || isExemptFor(p, host)) continue
    const hit = matchDlpPattern(p, text)
    if (hit === null) continue
    out.add(findingOf(p, encoding, hit))
  }
  return out.enforcedCount - before
}

/** Canary search (§5.9, always checked: §24 #4 fixed). */
export function findCanary(canaries: readonly CanaryVariants[], haystacks: readonly string[]): {name: string; encoding: string} | null {
  // Without canaries nothing is lower-cased (a copy of every haystack on every scan).
  if (canaries.length === 0) return null
  const lowered = haystacks.map((h) => h.toLowerCase())
  if (needlesAbsent(canaries, haystacks, lowered)) return null
  for (const c of canaries) {
    for (const v of c.variants) {
      const hs = v.lowerHaystack ? lowered : haystacks
      for (const h of hs) if (h.includes(v.needle)) return {name: c.name, encoding: v.encoding}
    }
  }
  return null
}
