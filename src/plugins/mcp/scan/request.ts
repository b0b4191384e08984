/**
 * `ScanRequest` (spec mcp.md §4.2): DLP and injection over every client→server message, with the
 * split-secret pairs and the raw / `\u`-unescaped passes. Uses the shared scanner's text DLP and
 * response (injection) scanner; nothing here re-implements a pattern.
 */
import {goJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {junctionWindow, splitSecretFindings, type DlpFinding, type Scanner} from '../../scanner/index.js'
import {allStrings, sentValueStrings, unescapeU, valueStrings} from '../jsonrpc/extract.js'
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
  /**
   * Split-secret check (§4.2): the values concatenated, then every junction pair, then [fix] the
   * values joined in the other orders a server may reassemble them in — a secret cut in three or
   * more pieces (`splitSecretFindings`); first hit wins. `values`: the JSON values whose strings
   * are checked, in the order of `valueStrings`.
   */
  split(values: ReadonlyArray<JsonValue | undefined>, joined: string): DlpFinding[] {
    const vals = values.flatMap((v) => valueStrings(v))
    const sent = values.flatMap((v) => sentValueStrings(v))
    return splitSecretFindings(this.dlp, (t) => this.scan(t), vals, joined, this.window(), sent)
  }
  scan(text: string): DlpFinding[] {
    const r = this.scanner.scanTextForDlp(text)
    for (const w of r.warnings) this.warnings.add(w.pattern)
    return r.matches
  }
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
  if (dlp.length === 0) dlp = run.split([value], joined)
  for (const t of [...strs, text, ...(unescaped !== text ? [unescaped] : [])]) {
    if (dlp.length > 0) break
    dlp = run.scan(t)
  }
  const injection = firstInjection(scanner, [text, ...(unescaped !== text ? [unescaped] : []), ...strs])
  return verdict(dlp, injection, run, action)
}

/** The JSON-RPC envelope's own members; step 6 reads them apart from the rest. */
const ENVELOPE = new Set(['jsonrpc', 'id', 'method', 'params'])

/** The members of a message other than the envelope's (none in a well-formed request). */
function extraMembers(msg: JsonObject): JsonObject {
  return new Map([...msg].filter(([k]) => !ENVELOPE.has(k)))
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
    if (dlp.length === 0) dlp = run.split([msg], joined)
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
  // Step 6: params, plus the method name and the raw id — and [fix] every other member of the
  // envelope: the message is forwarded as received, so a member beside `params` reaches the server.
  const extra = extraMembers(msg)
  let strs = allStrings(params)
  if (strs.length === 0) strs = [goJson(params)]
  strs.push(...allStrings(extra))
  if (frame.method !== '') strs.push(frame.method)
  if (frame.id !== null) strs.push(frame.id)
  const joined = strs.join('\n')
  let dlp = run.scan(joined)
  if (dlp.length === 0) dlp = run.split([params, extra], joined)
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
