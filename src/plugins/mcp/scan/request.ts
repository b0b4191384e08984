/**
 * `ScanRequest` (spec mcp.md §4.2): DLP and injection over every client→server message, with the
 * split-secret pairs and the raw / `\u`-unescaped passes. Uses the shared scanner's text DLP and
 * response (injection) scanner; nothing here re-implements a pattern.
 */
import {goJson, type JsonValue} from '../../canonical/index.js'
import {isBuiltinDlpPattern, isSegmentDelimiter, junctionPairsToScan, type DlpFinding, type JunctionPair, type Scanner} from '../../scanner/index.js'
import {allStrings, unescapeU, valueStrings} from '../jsonrpc/extract.js'
import {isObject, type McpFrame} from '../jsonrpc/frame.js'

export type InputAction = 'warn' | 'block'

export interface ContentVerdict {
  readonly clean: boolean
  /** Enforced DLP findings (pattern names and severities; never the matched text). */
  readonly dlp: readonly DlpFinding[]
  /** Injection pattern names. */
  readonly injection: readonly string[]
  /** Structural problem (parse error, wrong `jsonrpc`); dirty without DLP/injection. */
  readonly error: string | null
  /** `action: warn` DLP pattern names seen (never make the result dirty). */
  readonly dlpWarnings: readonly string[]
  /** The input action when dirty ('' when clean). */
  readonly action: InputAction | ''
  /** The scan itself could not complete (`error` says why); blocked, fail closed. */
  readonly unavailable?: boolean
}

const CLEAN: ContentVerdict = {clean: true, dlp: [], injection: [], error: null, dlpWarnings: [], action: ''}

/** Above this many values the pairwise split check uses the first and last 32 (reference edge sampling). */
const PAIR_EDGE = 32

class DlpRun {
  readonly warnings = new Set<string>()
  private junction: number | null | undefined
  constructor(private readonly scanner: Scanner) {}
  get dlp(): Scanner['dlp'] {
    return this.scanner.dlp
  }
  /** The pairwise split check's junction window for this scanner (computed once per message). */
  window(): number | null {
    if (this.junction === undefined) this.junction = junctionWindow(this.scanner)
    return this.junction
  }
  scan(text: string): DlpFinding[] {
    const r = this.scanner.scanTextForDlp(text)
    for (const w of r.warnings) this.warnings.add(w.pattern)
    return r.matches
  }
}

/**
 * Characters of each value kept on either side of a pair's junction in the pairwise split check,
 * at least. The longest minimum match of a built-in DLP pattern is 112 characters (Extended
 * Private Key) and its encoded forms are longer (base64 150, base32 180, hex 224), so 256 per side
 * keeps every built-in pattern and its encodings whole whatever the split (a part longer than
 * its pattern's minimum matches in its own value's scan anyway). The reference scans the whole
 * `a+b` (§4.2, up to 4,032 full scans per message — the §18.4 hazard); the window cuts that work
 * for long values. Literal secrets and canaries widen it to their longest variant, and a
 * configured pattern that is not a built-in (unknown match length) turns the window off
 * (`junctionWindow`): the whole `a+b` is scanned, as the reference does (docs/compatibility.md).
 */
export const JUNCTION_WINDOW = 256

/**
 * The junction window for this scanner's patterns and secrets, or null when the whole `a+b` must
 * be scanned (a configured pattern other than the built-ins: its match length is unknown).
 */
export function junctionWindow(scanner: Pick<Scanner, 'dlp'>): number | null {
  const d = scanner.dlp
  if (!d.configured.every(isBuiltinDlpPattern)) return null
  let w = JUNCTION_WINDOW
  for (const s of [...d.literalSecrets, ...d.canaries]) for (const v of s.variants) w = Math.max(w, v.needle.length)
  return w
}

/** Start of the segment (text DLP step 7) that contains position `i` of `v`. */
function segmentStart(v: string, i: number): number {
  while (i > 0 && !isSegmentDelimiter(v, i - 1)) i--
  return i
}

/**
 * The end of `v` kept before a junction: the last JUNCTION_WINDOW characters, moved back to the
 * start of the segment they begin in when that is near, else to an 8-character boundary of it,
 * so the decoders (base64/base32/hex) see the same alignment as in `a+b`.
 */
function tailWindow(v: string, window: number): {text: string; junctionSegment: number} {
  let start = 0
  if (v.length > window) {
    start = v.length - window
    const seg = segmentStart(v, start)
    start = start - seg <= window ? seg : start - ((start - seg) % 8)
  }
  const text = v.slice(start)
  return {text, junctionSegment: segmentStart(text, text.length)}
}

/**
 * The start of `v` kept after a junction: JUNCTION_WINDOW characters, extended to the end of the
 * segment they cut when that is near. `cut` = the window ends inside a segment; `lastSegment` =
 * where that segment starts (-1 when it is the junction's segment, which begins in the tail).
 */
function headWindow(v: string, window: number): {text: string; cut: boolean; lastSegment: number} {
  if (v.length <= window) return {text: v, cut: false, lastSegment: 0}
  let end = window
  let seg = end
  while (seg < v.length && !isSegmentDelimiter(v, seg)) seg++
  if (seg - end <= window) return {text: v.slice(0, seg), cut: false, lastSegment: 0}
  const last = segmentStart(v, end)
  // A cut segment is trimmed to a multiple of 8 characters, as an encoded value would be.
  if (last > 0) end -= (end - last) % 8
  return {text: v.slice(0, end), cut: true, lastSegment: last > 0 ? last : -1}
}

/**
 * The pairs of the pairwise split check (§4.2), as halves: for every pair `i<j` of non-empty
 * values (the first and last 32 above 64 values), `vals[i]` then `vals[j]`, then `vals[j]` then
 * `vals[i]` — each cut to its junction window (`window` characters a side, null = the whole
 * values). The text of a pair is `x + y`; it is not built here (see `junctionPairsToScan`).
 * Two pairs may give the same text: scanning it again finds the same, so that is only work.
 */
export function* junctionPairs(vals: readonly string[], window: number | null = JUNCTION_WINDOW): Generator<JunctionPair> {
  const pool = vals.length > 2 * PAIR_EDGE ? [...vals.slice(0, PAIR_EDGE), ...vals.slice(-PAIR_EDGE)] : vals
  const w = window ?? Infinity
  const tails = pool.map((v) => tailWindow(v, w))
  const heads = pool.map((v) => headWindow(v, w))
  const pair = (i: number, j: number): JunctionPair => {
    const t = tails[i]!
    const h = heads[j]!
    let y = h.text
    // A cut head inside the junction's segment: trim the joined segment to a multiple of 8.
    if (h.cut && h.lastSegment < 0) y = y.slice(0, y.length - ((t.text.length + y.length - t.junctionSegment) % 8))
    return {x: t.text, y, left: i, right: j}
  }
  for (let i = 0; i < pool.length; i++) {
    if (pool[i] === '') continue
    for (let j = i + 1; j < pool.length; j++) {
      if (pool[j] === '') continue
      yield pair(i, j)
      yield pair(j, i)
    }
  }
}

/** Split-secret check (§4.2): the values concatenated, then every junction pair; first hit wins. */
function splitSecret(run: DlpRun, vals: string[], joined: string): DlpFinding[] {
  if (vals.length <= 1) return []
  const concat = vals.join('')
  if (concat !== joined) {
    const m = run.scan(concat)
    if (m.length > 0) return m
  }
  // The junction pairs, less those the joined-text screen proves to have no finding (no match,
  // no warning): the first text with a finding, its findings and the warnings are unchanged.
  // Only the texts kept are built; one already scanned is not scanned again.
  const pairs = [...junctionPairs(vals, run.window())]
  const keep = junctionPairsToScan(run.dlp, pairs)
  const scanned = new Set<string>()
  for (let k = 0; k < pairs.length; k++) {
    if (!keep[k]) continue
    const text = pairs[k]!.x + pairs[k]!.y
    if (scanned.has(text)) continue
    scanned.add(text)
    const m = run.scan(text)
    if (m.length > 0) return m
  }
  return []
}

function injectionNames(scanner: Scanner, text: string): string[] {
  if (text === '') return []
  const r = scanner.scanResponse(text)
  return r.clean ? [] : [...new Set(r.matches.map((m) => m.pattern))]
}

function firstInjection(scanner: Scanner, texts: readonly string[]): string[] {
  for (const t of texts) {
    const n = injectionNames(scanner, t)
    if (n.length > 0) return n
  }
  return []
}

/** One finding per pattern name (core and configured sets can both report a pattern). */
function uniqueByPattern(findings: DlpFinding[]): DlpFinding[] {
  const seen = new Set<string>()
  return findings.filter((f) => !seen.has(f.pattern) && seen.add(f.pattern) !== undefined)
}

function verdict(found: DlpFinding[], injection: string[], run: DlpRun, action: InputAction): ContentVerdict {
  const dlp = uniqueByPattern(found)
  const dirty = dlp.length > 0 || injection.length > 0
  return {clean: !dirty, dlp, injection, error: null, dlpWarnings: [...run.warnings], action: dirty ? action : ''}
}

function dirtyError(error: string, action: InputAction): ContentVerdict {
  return {clean: false, dlp: [], injection: [], error, dlpWarnings: [], action}
}

/** Step 7: a message that is not JSON-RPC, forwarded only if nothing is found in its text. */
function rawPath(scanner: Scanner, text: string, value: JsonValue | undefined, action: InputAction): ContentVerdict {
  const run = new DlpRun(scanner)
  const strs = value === undefined ? [] : allStrings(value)
  const joined = strs.join('\n')
  const unescaped = text.includes('\\u') ? unescapeU(text) : text
  let dlp = run.scan(joined)
  if (dlp.length === 0) dlp = splitSecret(run, value === undefined ? [] : valueStrings(value), joined)
  for (const t of [...strs, text, ...(unescaped !== text ? [unescaped] : [])]) {
    if (dlp.length > 0) break
    dlp = run.scan(t)
  }
  const injection = firstInjection(scanner, [text, ...(unescaped !== text ? [unescaped] : []), ...strs])
  return verdict(dlp, injection, run, action)
}

export interface RequestScanOptions {
  readonly action: InputAction
  readonly onParseError: 'block' | 'forward'
}

export function scanRequest(scanner: Scanner, frame: McpFrame, opts: RequestScanOptions): ContentVerdict {
  const {action} = opts
  const forward = opts.onParseError === 'forward'
  if (frame.error !== null && frame.error.startsWith('duplicate object key')) return dirtyError(`duplicate JSON object key: ${frame.error}`, action)
  if (frame.value === undefined || frame.error !== null || frame.isBatch) {
    if (forward && frame.error !== 'mcp: method must be a string') return rawPath(scanner, frame.text, frame.value, action)
    return dirtyError(frame.error ?? 'invalid JSON structure', action)
  }
  const msg = frame.value
  if (!isObject(msg)) return forward ? rawPath(scanner, frame.text, msg, action) : dirtyError('invalid JSON structure', action)
  const jsonrpc = msg.get('jsonrpc')
  if (jsonrpc !== '2.0') {
    if (forward) return rawPath(scanner, frame.text, msg, action)
    const shown = typeof jsonrpc === 'string' ? jsonrpc : jsonrpc === undefined ? '' : goJson(jsonrpc)
    return dirtyError(`not a JSON-RPC 2.0 message: jsonrpc="${shown}"`, action)
  }
  const run = new DlpRun(scanner)
  const params = msg.get('params')
  if (params === undefined || params === null) {
    // Step 5: client responses and params-less requests — everything, keys included.
    const strs = allStrings(msg)
    const joined = strs.join('\n')
    let dlp = run.scan(joined)
    if (dlp.length === 0) dlp = splitSecret(run, valueStrings(msg), joined)
    for (const s of strs) {
      if (dlp.length > 0) break
      dlp = run.scan(s)
    }
    if (dlp.length === 0) dlp = run.scan(frame.text)
    if (dlp.length === 0 && frame.text.includes('\\u')) {
      const u = unescapeU(frame.text)
      if (u !== frame.text) dlp = run.scan(u)
    }
    const injection = firstInjection(scanner, [frame.text, ...strs])
    return verdict(dlp, injection, run, action)
  }
  // Step 6: params, plus the method name and the raw id.
  let strs = allStrings(params)
  if (strs.length === 0) strs = [goJson(params)]
  if (frame.method !== '') strs.push(frame.method)
  if (frame.id !== null) strs.push(frame.id)
  const joined = strs.join('\n')
  let dlp = run.scan(joined)
  if (dlp.length === 0) dlp = splitSecret(run, valueStrings(params), joined)
  if (dlp.length === 0) {
    // [replicated Q42] every string is scanned and the last dirty one is reported.
    for (const s of strs) {
      const m = run.scan(s)
      if (m.length > 0) dlp = m
    }
  }
  const injection = firstInjection(scanner, [joined, ...strs])
  return verdict(dlp, injection, run, action)
}

export {CLEAN as CLEAN_CONTENT}
