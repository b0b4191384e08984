/**
 * Request-body scanning (§6.2) and header DLP (§6.3). Every parse problem is a block: a body
 * the scanner cannot read is never forwarded unscanned (fail closed).
 */
import {createHash} from 'node:crypto'
import {goUnescape, parseContentType} from '../canonical/index.js'
import type {CleanTextMemo} from './clean-memo.js'
import type {DlpEngine, DlpFinding} from './dlp-engine.js'
import {matchesAnyDomain} from './domain-match.js'
import {declaredText, declaresOtherCharset} from './declared-charset.js'
import {decodeBackslashEscapes, decodeHtmlReferences, decodeSmuggledText, markupText, percentBytes, PRINTABLE_RUN_MIN, printableRuns} from './decoders.js'
import {extractJsonParts, JsonTextError} from './json-texts.js'
import {guardedJoint, normalisedCuts} from './joints.js'
import {provenCleanTexts} from './injection-screen.js'
import {provenCleanAlone} from './texts-alone-screen.js'
import {junctionWindow, pairPassBytes, splitSecretFindings} from './split-secret.js'
import {MULTIPART_LIMITS, MultipartError, multipartTexts} from './multipart.js'
import {scanResponse, unsuppressed, type ResponseMatch, type ResponseScanner, type Suppressor} from './response-scanner.js'
import type {ScannerSettings} from './settings.js'
import {holdsSeedPhrase, scanTextForDlp, SEED_PHRASE_FINDING, SegmentMemo, type TextDlpResult} from './text-dlp.js'
import {bodyScanTexts} from './text-runs.js'

export interface BodyScanInput {
  readonly contentType?: string
  readonly contentEncoding?: string
  /** The request's `Transfer-Encoding` as received (the framing has removed `chunked`, nothing else). */
  readonly transferEncoding?: string
  /** The bytes read: the caller reads at most `max_body_bytes + 1` so oversize is detectable. */
  readonly body: Uint8Array
  /** Destination host (for `response_scanning.exempt_domains`). */
  readonly host?: string
  /** operations.md §4.3: DLP finding names a `suppress` entry removes (injection hits are never suppressed). */
  readonly suppress?: Suppressor
}

export interface ContentScanResult {
  /** `allow` = clean; `warn` = findings but forwarded; `block` = refuse with 403. */
  readonly action: 'allow' | 'warn' | 'block'
  readonly layer: 'body_dlp' | 'body_prompt_injection' | 'header_dlp' | null
  readonly reason: 'dlp_match' | 'prompt_injection' | null
  /** Safe to log: pattern names, header names, fixed phrases; never a value. */
  readonly detail: string
  readonly dlp: readonly DlpFinding[]
  readonly dlpWarnings: readonly DlpFinding[]
  readonly injection: readonly ResponseMatch[]
}

const CLEAN: ContentScanResult = {action: 'allow', layer: null, reason: null, detail: 'clean', dlp: [], dlpWarnings: [], injection: []}

/** A body the scanner cannot read: blocked with `detail` (fail closed). */
function refuse(detail: string): ContentScanResult {
  return {action: 'block', layer: 'body_dlp', reason: 'dlp_match', detail, dlp: [], dlpWarnings: [], injection: []}
}

/** True when a `Content-Encoding` value names anything but identity (comma list, case-insensitive). */
export function isCompressedEncoding(value: string | undefined): boolean {
  if (value === undefined) return false
  return value.split(',').map((v) => v.trim().toLowerCase()).some((v) => v !== '' && v !== 'identity')
}

/**
 * True when a `Transfer-Encoding` value names a coding besides `chunked` (and `identity`): the
 * HTTP parser removes the chunked framing only, so a `gzip, chunked` body is still compressed.
 */
export function hasTransferCoding(value: string | undefined): boolean {
  if (value === undefined) return false
  return value.split(',').some((v) => {
    const t = v.trim().toLowerCase()
    return t !== '' && t !== 'chunked' && t !== 'identity'
  })
}

/**
 * Whether response headers name a transfer coding besides chunked (the field may come more than
 * once): the client removes the chunked framing only, so the body it yields is still compressed —
 * unscannable, and relayed it would reach the agent as bytes no header describes. Every transport
 * that reads an answer whole refuses it as a compressed one (`compressed_response`).
 */
export function transferCoded(h: Readonly<Record<string, string | readonly string[] | undefined>>): boolean {
  const v = h['transfer-encoding']
  return hasTransferCoding(typeof v === 'string' || v === undefined ? v : v.join(', '))
}

/** The block detail of such a response. */
export const TRANSFER_CODED_DETAIL = 'response with a transfer coding other than chunked cannot be scanned'

export class BodyParseError extends Error {}

export {MULTIPART_LIMITS}

/** A form's names and values, each name followed by its value. */
function parseForm(text: string): string[] {
  const out: string[] = []
  if (text === '') return out
  for (const part of text.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const k = goUnescape(eq >= 0 ? part.slice(0, eq) : part, true)
    const v = goUnescape(eq >= 0 ? part.slice(eq + 1) : '', true)
    if (k === null || v === null) throw new BodyParseError('malformed form body')
    out.push(k, v)
  }
  return out
}

/** Texts to scan, by media type (§6.2 step 3). Throws BodyParseError / JsonTextError. */
export function extractBodyTexts(contentType: string | undefined, body: Buffer, maxBodyBytes: number): string[] {
  return extractBodyParts(contentType, body, maxBodyBytes).texts
}

/** The texts of a body, and the pieces the split-secret pass joins (JSON, form and multipart bodies). */
export interface BodyParts {
  readonly texts: string[]
  /** String values in document / wire order (a multipart body's part contents); null when the body has no fields (raw). */
  readonly values: string[] | null
  readonly charArrays: readonly string[]
  /**
   * A body read through its text runs: its printable runs, found with them by the WebAssembly
   * finders (one copy of the body); absent, or null, when they are to be found by `printableRuns`.
   */
  readonly printableRuns?: string | null
  /**
   * A body read whole as UTF-8: the bytes its one text encodes to (the body), which text DLP's
   * first walk reads instead of encoding the text again.
   */
  readonly textBytes?: Buffer
  /**
   * A form's fields, or a JSON body's members whose values are strings, as name and value in
   * document order, and the separator the body writes between them (`memberJoinFound`).
   */
  readonly members?: {readonly pairs: ReadonlyArray<readonly [string, string]>; readonly sep: string}
}

/** The media types read as JSON (`application/json` and every `+json` type). */
function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json')
}

const FORM_TYPE = 'application/x-www-form-urlencoded'

function extractBodyParts(contentType: string | undefined, body: Buffer, maxBodyBytes: number): BodyParts {
  const {type, params} = parseContentType(contentType ?? '')
  if (isJsonType(type)) {
    const parts = extractJsonParts(body.toString('utf8'), false, true)
    return {...parts, members: {pairs: parts.members!, sep: ':'}}
  }
  if (type === FORM_TYPE) {
    const texts = parseForm(body.toString('utf8'))
    const pairs: Array<readonly [string, string]> = []
    for (let k = 0; k + 1 < texts.length; k += 2) pairs.push([texts[k]!, texts[k + 1]!])
    return {texts, values: texts.filter((_, k) => k % 2 === 1), charArrays: [], members: {pairs, sep: '='}}
  }
  if (type.startsWith('multipart/')) {
    // The parts' contents in order are the field values the split-secret pass joins, as a form's.
    const values: string[] = []
    return {texts: multipartTexts(body, params, maxBodyBytes, 0, values, partInCharset), values, charArrays: []}
  }
  // Any other type is read from its bytes (issue 36): its UTF-8 reading when well formed, else its
  // text runs, found with the printable runs the pieces pass reads.
  const read = bodyScanTexts(body, PRINTABLE_RUN_MIN)
  return {texts: [read.text], values: null, charArrays: [], printableRuns: read.printable, ...(read.utf8 === undefined ? {} : {textBytes: body})}
}

/** Whether a body starts with a gzip header (`1f 8b`, deflate): three bytes decide, no pass over the body. */
function isGzipStream(body: Uint8Array): boolean {
  return body.byteLength >= 3 && body[0] === 0x1f && body[1] === 0x8b && body[2] === 0x08
}

/**
 * About how many bytes `scanRequestBody` reads for `input` (the proxy scans a body over 64 KiB off
 * its event loop by this): none while request-body scanning is off (the scan answers at once); up
 * to `max_body_bytes` for a body it may inflate first (a gzip stream as the body, or as a multipart
 * part: `multipart.ts`), whose size as sent says nothing of the work; else the body's length, and
 * for a JSON or form body the pairs of its values the split-secret pass joins (`fieldPairBytes`;
 * not counted in a body over `enough`, the caller's threshold). Conservative for multipart (any
 * gzip magic in the body).
 */
export function requestBodyScanBytes(settings: ScannerSettings, input: Pick<BodyScanInput, 'contentType' | 'body'>, enough = Infinity): number {
  const cfg = settings.requestBodyScanning
  if (!cfg.enabled) return 0
  const n = input.body.byteLength
  if (isGzipStream(input.body)) return Math.max(n, cfg.maxBodyBytes)
  // A body longer than `enough` (the caller's threshold) is placed by its length: its fields are not counted.
  if (!/^\s*multipart\//i.test(input.contentType ?? '')) return n > enough ? n : n + fieldPairBytes(input.contentType, input.body)
  return Buffer.from(input.body.buffer, input.body.byteOffset, n).indexOf(GZIP_HEADER) >= 0 ? Math.max(n, cfg.maxBodyBytes) : n
}

const GZIP_HEADER = Buffer.from([0x1f, 0x8b])

/** Values counted by `fieldPairBytes` at most: past the pool of `junctionPairs` more do not add pairs. */
const COUNTED_VALUES = 65

/**
 * `pairPassBytes` over the string values of a JSON or form body (the types `extractBodyParts`
 * reads fields of), read from the bytes without parsing: a JSON string between unescaped `"`
 * that is not a key (followed by `:`), a form value after `=` up to `&`; up to COUNTED_VALUES; 0
 * for other types. The split-secret pass joins each pair of them (up to 4,032): 64 values are
 * 4–7 ms of scanning as words, e-mail addresses, URLs, paths or numbers in strings, and 30–40 ms
 * as hex ids, base64 or base32 tokens or JWTs (a decoder may take a pair whole, or a pattern's
 * screen matches across its junction, and the pair is scanned), in a body of one to thirteen
 * KiB: by its length alone such a body would stay on the event loop.
 */
function fieldPairBytes(contentType: string | undefined, body: Uint8Array): number {
  const {type} = parseContentType(contentType ?? '')
  const json = isJsonType(type)
  if (!json && type !== FORM_TYPE) return 0
  return valuePairBytes(json, body.length, (i) => body[i]!)
}

/**
 * `fieldPairBytes` of a JSON text (an MCP message, whose arguments' values the split-secret pass
 * joins in pairs, mcp.md §4.2), read unit by unit (the marks it looks for are ASCII).
 */
export function jsonValuePairBytes(text: string): number {
  return valuePairBytes(true, text.length, (i) => text.charCodeAt(i))
}

/** `pairPassBytes` over the string values of JSON (`json`) or of a form, unit `i` read by `at`. */
function valuePairBytes(json: boolean, length: number, at: (i: number) => number): number {
  let count = 0
  let total = 0
  let open = false
  let start = 0
  for (let i = 0; i < length && count < COUNTED_VALUES; i++) {
    const b = at(i)
    if (!open) {
      // A value starts: a JSON string's opening quote, a form value's `=`.
      if (b === (json ? 0x22 : 0x3d)) {
        open = true
        start = i + 1
      }
      continue
    }
    if (json && b === 0x5c) {
      i++
      continue
    }
    if (b !== (json ? 0x22 : 0x26)) continue
    open = false
    if (json && isKey(length, at, i + 1)) continue
    count++
    total += i - start
  }
  if (!json && open) {
    count++
    total += length - start
  }
  return pairPassBytes(count, total)
}

/** Whether the JSON after a string's closing quote (at `from`) is `:` past white space: the string is a key. */
function isKey(length: number, at: (i: number) => number, from: number): boolean {
  let j = from
  while (j < length && (at(j) === 0x20 || at(j) === 0x09 || at(j) === 0x0a || at(j) === 0x0d)) j++
  return j < length && at(j) === 0x3a
}

/**
 * A request body that is a gzip stream, inflated (at most `max` bytes): the upstream that
 * receives it need only gunzip it. A stream cut short (one piece of a resumable upload) is read as
 * far as it goes: its bytes are all that is sent. Anything that cannot be read — corrupt data,
 * more than `max` bytes, a second gzip stream inside — refuses the body (fail closed).
 */
function inflatedGzip(body: Buffer, max: number): Buffer {
  let out: Buffer
  try {
    // node:zlib on first use only, as the multipart reader loads it.
    const zlib = process.getBuiltinModule('node:zlib')
    out = zlib.gunzipSync(body, {maxOutputLength: Math.max(1, max), finishFlush: zlib.constants.Z_SYNC_FLUSH})
  } catch {
    throw new BodyParseError('gzip request body cannot be read')
  }
  if (out.length >= 2 && out[0] === 0x1f && out[1] === 0x8b) throw new BodyParseError('request body compressed twice')
  return out
}

/**
 * A multipart part read in the charset its own Content-Type declares (`multipart.ts`): a
 * Shift_JIS or UTF-16 text field is what a server that honours the part's label reads; a charset
 * this runtime cannot decode refuses the body. A part that names none, or UTF-8, reads nothing more.
 */
function partInCharset(contentType: string, bytes: Buffer): readonly string[] {
  if (!DECLARES_CHARSET.test(contentType) || !declaresOtherCharset(contentType)) return []
  const d = declaredText(contentType, bytes, {markup: false})
  if (d.kind === 'unreadable') throw new MultipartError(`multipart part in ${d.charset === null ? 'its declared charset' : `charset ${d.charset}`} cannot be scanned`)
  return d.kind === 'text' ? d.texts : []
}

/** Whether some text holds a code unit at or above U+D800 (a surrogate or U+E000–U+FFFF). */
function holdsHighUnits(xs: readonly string[]): boolean {
  for (const x of xs) for (let i = 0; i < x.length; i++) if (x.charCodeAt(i) >= 0xd800) return true
  return false
}

function sortedByBytes(xs: readonly string[]): string[] {
  // Below U+D800, UTF-16 code-unit order is code-point order, which is UTF-8 byte order: the
  // native string sort gives the same order without encoding anything (most bodies). Above it a
  // surrogate (a code point past U+FFFF) would sort before U+E000–U+FFFF: compare the bytes.
  if (!holdsHighUnits(xs)) return [...xs].sort()
  // Each text encoded once, not twice per comparison (n log n buffers for a large JSON body).
  const keyed = xs.map((x) => ({x, b: Buffer.from(x)}))
  keyed.sort((a, b) => Buffer.compare(a.b, b.b))
  return keyed.map((k) => k.x)
}

/**
 * Each text once, in the order it first occurs. Text DLP and the injection scan are functions
 * of the text alone, and findings are de-duplicated across texts: a repeat (the same key, `true`,
 * a tag in every item of a JSON array) finds nothing its first occurrence did not.
 */
function distinctTexts(xs: readonly string[]): string[] {
  return xs.length > 1 ? [...new Set(xs)] : [...xs]
}

/**
 * The texts of `xs` that text DLP may find something in (a match or a warning), in order: the
 * others are proven to have no finding by the screen of texts alone (`texts-alone-screen.ts`) —
 * one batched pass of the DLP set over their forms instead of a scan per text. Leaving them out
 * changes neither the findings, their order, nor the warnings.
 */
function mayFind(engine: DlpEngine, xs: readonly string[]): string[] {
  if (xs.length < 2) return [...xs]
  const proven = provenCleanAlone(engine, xs)
  return proven.size === 0 ? [...xs] : xs.filter((x) => !proven.has(x))
}

/** Text DLP over texts, findings de-duplicated (pattern, encoding, warn) across them. */
export class DlpCollector {
  readonly matches: DlpFinding[] = []
  readonly warnings: DlpFinding[] = []
  private readonly seen = new Set<string>()
  /** The segments' decodings, shared by the scans of this collector's texts (they hold the same segments). */
  private readonly segments = new SegmentMemo()
  constructor(private readonly engine: DlpEngine) {}
  /** Scans one text (`utf8`: its UTF-8 encoding, when the caller has it); its enforced findings. */
  scan(t: string, utf8?: Buffer): DlpFinding[] {
    return this.scanFull(t, utf8).matches
  }
  /** Scans one text; its own findings and warnings (before de-duplication across texts). */
  scanFull(t: string, utf8?: Buffer): TextDlpResult {
    const r = scanTextForDlp(this.engine, t, utf8 === undefined ? {segments: this.segments} : {segments: this.segments, utf8})
    this.add(this.matches, r.matches)
    this.add(this.warnings, r.warnings)
    return r
  }
  /**
   * The sorted join of texts (§6.2 step 4, header DLP's last scan): text DLP without the
   * seed-phrase step, which reads the same texts in their own order instead (`inOrder`, joined
   * by line breaks; nothing when fewer than two). A mnemonic is its words in order, and sorting
   * makes a phrase of what is none: identical texts become neighbours, and the keys of a dozen
   * records read `type type type …`, which passes the checksum (runtime §6.2 sorts; a fix,
   * docs/compatibility.md). Each text is read for a phrase on its own as well.
   */
  scanSortedJoin(join: string, inOrder: readonly string[]): void {
    const r = scanTextForDlp(this.engine, join, {seedPhrase: false, segments: this.segments})
    this.add(this.matches, r.matches)
    this.add(this.warnings, r.warnings)
    if (inOrder.length > 1 && holdsSeedPhrase(this.engine, inOrder.join('\n'))) this.add(this.matches, [{...SEED_PHRASE_FINDING}])
  }
  private add(list: DlpFinding[], fs: readonly DlpFinding[]): void {
    for (const f of fs) {
      const k = `${f.warn}\u0000${f.pattern}\u0000${f.encoding}`
      if (this.seen.has(k)) continue
      this.seen.add(k)
      list.push(f)
    }
  }
}

/**
 * A secret spelt out of pieces (issue 37), after the body's own texts found nothing enforced:
 * each array of one-character strings as one string; the printable runs of a body holding
 * binary bytes (whatever its label); every text with its HTML character references decoded, and
 * with its backslash escapes decoded (then with text hidden in invisible code points read out),
 * and its markup's joined text (`markupText`: tags, comments and CDATA markers removed);
 * then the split-secret pass of the MCP argument screen over the string values in order (the
 * values joined, then every junction pair, both orders), on the values as sent and decoded.
 */
export function piecesOf(deps: BodyScanDeps, c: DlpCollector, body: Buffer, parts: BodyParts): void {
  const extra: string[] = [...parts.charArrays]
  const runs = printableRuns(body, PRINTABLE_RUN_MIN, parts.printableRuns ?? null)
  if (runs !== null && runs !== '') extra.push(runs)
  for (const t of distinctTexts([...parts.texts, ...parts.charArrays])) pushReadings(t, extra)
  for (const t of distinctTexts(extra)) if (c.scan(t).length > 0) return
  if (parts.members !== undefined && memberJoinFound(deps.dlp, c, parts.members.pairs, parts.members.sep)) return
  const values = parts.values
  if (values === null || values.length < 2) return
  const window = junctionWindow(deps)
  const scan = (t: string): DlpFinding[] => c.scan(t)
  if (splitSecretFindings(deps.dlp, scan, values, null, window).length > 0) return
  const decoded = values.map(decodeHtmlReferences)
  if (decoded.some((d, k) => d !== values[k])) splitSecretFindings(deps.dlp, scan, decoded, null, window)
}

/**
 * Each field's name joined to its value: a key cut between them (`AKIA…=…` in a form,
 * `{"AKIA…":"…"}` in JSON) is whole in neither, and the pair pass joins values only. The joins
 * text DLP cannot find anything in are proven so in one batched screen (`mayFind`); the others are
 * read as the URL scan reads its joined texts (joints.ts): a hit counts only when its first eight
 * characters stand in the name or in the value, else the separator is put back (a member
 * `"canvas": "…"` whose name ends in a key prefix is no key). Whether one holds a finding.
 */
function memberJoinFound(dlp: DlpEngine, c: DlpCollector, pairs: ReadonlyArray<readonly [string, string]>, sep: string): boolean {
  const cutAt = new Map<string, number>()
  for (const [name, value] of pairs) {
    if (name === '' || value === '') continue
    const joined = name + value
    if (!cutAt.has(joined)) cutAt.set(joined, name.length)
  }
  if (cutAt.size === 0) return false
  for (const t of mayFind(dlp, [...cutAt.keys()])) {
    const norm = dlp.normalizer.forDlp(t)
    const guarded = guardedJoint(dlp, norm, normalisedCuts(dlp.normalizer, t, norm, [{at: cutAt.get(t)!, sep}]))
    if (c.scan(guarded).length > 0) return true
  }
  return false
}

/**
 * The readings of a text its receiver's parser may hand on, each pushed to `out` when it differs
 * from the text: its HTML character references decoded; its backslash escapes decoded (JSON under
 * another label, or in a header, is parsed all the same), then with text hidden in tag characters
 * or variation selectors read out (the passes remove those as invisible); and, where markup stands
 * inside a word (or CDATA anywhere), the HTML reading's markup joined (a key parted by a tag, a
 * comment or CDATA markers) — a page's block tags between words would cost another scan for
 * nothing. Body texts (`piecesOf`) and header values (`decodedHeaderFindings`) read the same.
 */
function pushReadings(t: string, out: string[]): void {
  const d = decodeHtmlReferences(t)
  if (d !== t) out.push(d)
  const e = decodeBackslashEscapes(t)
  if (e !== t) out.push(e)
  const h = decodeSmuggledText(e)
  if (h !== e) out.push(h)
  if (d.includes('<![CDATA[') || markupInWord(d)) {
    const mk = markupText(d)
    if (mk !== d) out.push(mk)
  }
}

/**
 * Whether some run of markup (tags, comments, instructions back to back) has a word character
 * right before and right after it (`AKIAQWER<b></b>TYUI…`, `…R<!-- x -->T…`). Linear: each `<`
 * is found once and the search goes on after its `>`.
 */
function markupInWord(s: string): boolean {
  for (let i = s.indexOf('<'); i >= 0; i = s.indexOf('<', i + 1)) {
    if (i === 0 || !WORD_UNIT.test(s.charAt(i - 1))) continue
    let end = s.indexOf('>', i)
    if (end < 0) return false
    while (s.charAt(end + 1) === '<') {
      const next = s.indexOf('>', end + 1)
      if (next < 0) return false
      end = next
    }
    if (WORD_UNIT.test(s.charAt(end + 1))) return true
    i = end
  }
  return false
}
const WORD_UNIT = /^[A-Za-z0-9+/=]$/

export interface BodyScanDeps {
  readonly settings: ScannerSettings
  readonly dlp: DlpEngine
  readonly response: ResponseScanner
  readonly headerNames?: HeaderNameSets
  /** Header texts this scanner proved clean (header DLP's per-request saving). */
  readonly cleanMemo?: CleanTextMemo
}

/** §6.2 request-body scan. Never throws: an internal error refuses the body (fail closed). */
export function scanRequestBody(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  let r = scanOpenedBody(deps, input, scanBodyTexts)
  // A gzip stream whatever its label, as a multipart part's is (three bytes decide): what is
  // inside is scanned as a body of its own, read from its bytes.
  if (r.action !== 'block' && isGzipStream(input.body) && deps.settings.requestBodyScanning.enabled) {
    const inner = scanInflated(deps, input)
    if (inner.action === 'block') return inner
    if (r.action === 'allow' && (inner.action === 'warn' || inner.dlpWarnings.length > 0)) r = inner
  }
  // A header test decides whether a declared charset is read too: most bodies name none, or UTF-8.
  const ct = input.contentType
  if (r.action === 'block' || ct === undefined || !(DECLARES_CHARSET.test(ct) || MAY_BE_XML.test(ct))) return r
  try {
    return scanDeclaredCharset(deps, input, ct, r)
  } catch {
    return refuse('request body could not be scanned')
  }
}

/** The scan of a gzip body's inflated bytes (`inflatedGzip`), with the body's host and suppressor; one it cannot inflate is refused. */
function scanInflated(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
  let inflated: Buffer
  try {
    inflated = inflatedGzip(body, deps.settings.requestBodyScanning.maxBodyBytes)
  } catch (e) {
    return refuse(e instanceof BodyParseError ? e.message : 'gzip request body cannot be read')
  }
  const inner: BodyScanInput = {body: inflated, ...(input.host === undefined ? {} : {host: input.host}), ...(input.suppress === undefined ? {} : {suppress: input.suppress})}
  return scanOpenedBody(deps, inner, scanBodyTexts)
}

/** A Content-Type with a `charset` parameter (any case); `declaredText` parses it properly. */
const DECLARES_CHARSET = /;[^]*charset/i
/** A Content-Type that may be XML (`text/xml`, `application/xml`, `…+xml`), whose document may name its own encoding. */
const MAY_BE_XML = /xml/i

/**
 * The body read in the charset its Content-Type declares, as a server that honours the label
 * reads it (`declared-charset.ts`; the header's label only, no markup: a server does not sniff a
 * request's `<meta>`; an XML document with no header charset in the encoding it declares itself,
 * as an XML parser reads it). UTF-16, Shift_JIS or ISO-2022-JP bytes of a key (fullwidth letters,
 * one byte in two) are not the key in the UTF-8 reading the scan above judged. That reading's texts
 * are parsed by the media type and scanned the same way, and a form's percent-escaped bytes are
 * read in the charset too; a charset this runtime cannot decode (EBCDIC, UTF-7, UTF-32, an
 * unknown label) is a body that cannot be scanned (fail closed).
 */
function scanDeclaredCharset(deps: BodyScanDeps, input: BodyScanInput, contentType: string, first: ContentScanResult): ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  if (!cfg.enabled || input.body.byteLength === 0) return first
  const declared = declaredText(contentType, input.body, {markup: false, xml: true})
  if (declared.kind === 'unreadable') return refuse(`request body in ${declared.charset === null ? 'its declared charset' : `charset ${declared.charset}`} cannot be scanned`)
  let verdict = first
  const judge = (bytes: Buffer, parts: BodyParts): ContentScanResult | null => {
    const r = scanBodyTexts(deps, input, bytes, parts)
    if (r.action === 'block') return r
    if (verdict.action === 'allow' && (r.action === 'warn' || r.dlpWarnings.length > 0)) verdict = r
    return null
  }
  for (const text of declared.kind === 'text' ? declared.texts : []) {
    const bytes = Buffer.from(text, 'utf8')
    let parts: BodyParts
    try {
      // The size limit was checked on the bytes received; the decoded reading may be longer.
      parts = extractBodyParts(contentType, bytes, Math.max(cfg.maxBodyBytes, bytes.length))
    } catch (e) {
      if (e instanceof JsonTextError || e instanceof BodyParseError || e instanceof MultipartError) return refuse(e.message)
      return refuse('request body cannot be parsed')
    }
    const blocked = judge(bytes, parts)
    if (blocked !== null) return blocked
  }
  if (parseContentType(contentType).type === 'application/x-www-form-urlencoded' && declaresOtherCharset(contentType)) {
    const values = formValuesInCharset(contentType, Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength))
    if (values.length > 0) {
      const blocked = judge(Buffer.from(values.join('\n')), {texts: values, values, charArrays: []})
      if (blocked !== null) return blocked
    }
  }
  return verdict
}

/**
 * The names and values of a form whose percent escapes spell bytes in its declared charset
 * (`%82%60` is Shift_JIS for a fullwidth A), each read in that charset; only those whose reading
 * differs from the UTF-8 one the form scan judged.
 */
function formValuesInCharset(contentType: string, body: Buffer): string[] {
  const out: string[] = []
  for (const pair of body.toString('latin1').split('&')) {
    for (const side of pair.split('=', 2)) {
      if (!side.includes('%')) continue
      const d = declaredText(contentType, percentBytes(side, {plusIsSpace: true, latin1: true}), {markup: false})
      if (d.kind === 'text') out.push(...d.texts)
    }
  }
  return out
}

/**
 * The frame of a request-body scan: the opening checks (`openBody`), then `scan` over the body's
 * texts; an internal error anywhere refuses the body (fail closed).
 */
export function scanOpenedBody(
  deps: BodyScanDeps, input: BodyScanInput, scan: (deps: BodyScanDeps, input: BodyScanInput, body: Buffer, parts: BodyParts) => ContentScanResult,
): ContentScanResult {
  try {
    const opened = openBody(deps, input)
    return 'parts' in opened ? scan(deps, input, opened.body, opened.parts) : opened
  } catch {
    return refuse('request body could not be scanned')
  }
}

/**
 * The checks before a body's texts are scanned (§6.2): off, compressed, too large, empty, or not
 * parseable as its Content-Type says — each answered here; otherwise the body and its texts.
 */
function openBody(deps: BodyScanDeps, input: BodyScanInput): {readonly body: Buffer; readonly parts: BodyParts} | ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  if (!cfg.enabled) return CLEAN
  if (isCompressedEncoding(input.contentEncoding)) return refuse('compressed bodies cannot be scanned')
  // The codings are the client's words: never named in the detail.
  if (hasTransferCoding(input.transferEncoding)) return refuse('request body with a transfer coding other than chunked cannot be scanned')
  const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
  if (body.length > cfg.maxBodyBytes) return refuse(`request body exceeds max_body_bytes (${cfg.maxBodyBytes})`)
  if (body.length === 0) return CLEAN
  try {
    return {body, parts: extractBodyParts(input.contentType, body, cfg.maxBodyBytes)}
  } catch (e) {
    if (e instanceof JsonTextError || e instanceof BodyParseError || e instanceof MultipartError) return refuse(e.message)
    return refuse('request body cannot be parsed')
  }
}

/** How often each distinct text occurs, keyed in the order each first occurs (a Map keeps insertion order). */
function textCounts(xs: readonly string[]): Map<string, number> {
  const count = new Map<string, number>()
  for (const t of xs) count.set(t, (count.get(t) ?? 0) + 1)
  return count
}

/**
 * `sortedByBytes(texts).join('\n')`, sorting the distinct texts only: equal texts are neighbours
 * in the sorted list, so each distinct text, in sorted order, is written as many times as it
 * occurs (a JSON body's keys, `true` and tags repeat in every item: 5,928 texts, 1,682 distinct).
 */
function sortedJoinOf(count: ReadonlyMap<string, number>): string {
  const out: string[] = []
  for (const t of sortedByBytes([...count.keys()])) for (let n = count.get(t)!; n > 0; n--) out.push(t)
  return out.join('\n')
}

function scanBodyTexts(deps: BodyScanDeps, input: BodyScanInput, body: Buffer, parts: BodyParts): ContentScanResult {
  const texts = parts.texts
  // One map gives both the distinct texts (`distinctTexts`' order) and their counts for the sorted join.
  const counts = texts.length > 1 ? textCounts(texts) : null
  const unique = counts !== null ? [...counts.keys()] : [...texts]
  const sortedJoin = counts !== null ? sortedJoinOf(counts) : null
  const found = new DlpCollector(deps.dlp)
  // A body read whole is one text, whose encoding is the body (`textBytes`).
  for (const t of mayFind(deps.dlp, unique)) found.scan(t, texts.length === 1 ? parts.textBytes : undefined)
  // A phrase across texts is read in the body's order: its string values when it has fields
  // (keys name fields, they are no words of a value), else its texts.
  if (sortedJoin !== null) found.scanSortedJoin(sortedJoin, parts.values ?? texts)
  if (found.matches.length === 0) piecesOf(deps, found, body, parts)
  const matches = unsuppressed(found.matches, input.suppress)
  const warnings = unsuppressed(found.warnings, input.suppress)

  // A body sent to a host in `response_scanning.exempt_domains` is not scanned for injection
  // (runtime §6.2, as the reference: the core patterns too): the operator's one way to send an API
  // bodies whose values, joined, read as an instruction (docs/security.md). DLP still applies.
  const exempt = input.host !== undefined && matchesAnyDomain(input.host, deps.settings.responseScanning.exemptDomains) !== null
  const injection = exempt ? [] : firstInjection(deps.response, texts, unique, sortedJoin)
  return bodyVerdict(deps, matches, warnings, injection)
}

/**
 * §6.2 step 5: the first injection found in the body's texts, then in them joined in order and
 * sorted (`unique`: the distinct texts; `sortedJoin`: null for a body of one text). The distinct
 * texts the joined screen proves clean are not scanned one by one (a clean scan adds nothing and
 * stops nothing); the joins and every other text are.
 */
function firstInjection(response: ResponseScanner, texts: readonly string[], unique: readonly string[], sortedJoin: string | null): readonly ResponseMatch[] {
  const proven = sortedJoin !== null ? provenCleanTexts(response, unique) : null
  for (const t of sortedJoin !== null ? [...unique, texts.join('\n'), sortedJoin] : texts) {
    if (proven?.has(t) === true) continue
    const r = scanResponse(response, t)
    if (!r.clean) return r.matches
  }
  return []
}

/** The body's verdict from its findings (§6.2): critical DLP, then injection, then DLP, then warnings. */
export function bodyVerdict(deps: BodyScanDeps, matches: readonly DlpFinding[], warnings: readonly DlpFinding[], injection: readonly ResponseMatch[]): ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  const enforce = deps.settings.enforce
  const names = (fs: readonly {pattern: string}[]) => [...new Set(fs.map((f) => f.pattern))].join(', ')
  if (enforce && matches.some((m) => m.severity === 'critical')) {
    return {action: 'block', layer: 'body_dlp', reason: 'dlp_match', detail: `request body DLP match: ${names(matches)}`, dlp: matches, dlpWarnings: warnings, injection}
  }
  if (injection.length > 0) {
    return {
      action: enforce ? 'block' : 'warn', layer: 'body_prompt_injection', reason: 'prompt_injection',
      detail: `request body contains injection: ${names(injection)}`, dlp: matches, dlpWarnings: warnings, injection,
    }
  }
  if (matches.length > 0) {
    return {
      action: cfg.action === 'block' && enforce ? 'block' : 'warn', layer: 'body_dlp', reason: 'dlp_match',
      detail: `request body DLP match: ${names(matches)}`, dlp: matches, dlpWarnings: warnings, injection,
    }
  }
  return warnings.length > 0 ? {...CLEAN, dlpWarnings: warnings} : CLEAN
}

const STRICT_UTF8 = new TextDecoder('utf-8', {fatal: true})

/**
 * A header value as the bytes' UTF-8 reading when it is a latin1 string (every char ≤ U+00FF,
 * as Node's parser produces) holding valid multi-byte UTF-8; otherwise unchanged.
 */
export function utf8HeaderValue(v: string): string {
  let high = false
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i)
    if (c > 0xff) return v
    if (c >= 0x80) high = true
  }
  if (!high) return v
  try {
    return STRICT_UTF8.decode(Buffer.from(v, 'latin1'))
  } catch {
    return v
  }
}

/** Header list as received: name/value pairs (repeated names allowed). */
export type HeaderList = ReadonlyArray<readonly [string, string]>

/** §6.3 header DLP. Never throws: an internal error blocks (fail closed). */
export function scanRequestHeaders(deps: BodyScanDeps, headers: HeaderList): ContentScanResult {
  try {
    return scanRequestHeadersUnguarded(deps, headers)
  } catch {
    return {...refuse('request headers could not be scanned'), layer: 'header_dlp'}
  }
}

/** Lower-cased header name sets (§6.3), built once per scanner rather than per request. */
export interface HeaderNameSets {
  readonly sensitive: ReadonlySet<string>
  readonly ignore: ReadonlySet<string>
}

export function headerNameSets(cfg: {readonly sensitiveHeaders: readonly string[]; readonly ignoreHeaders: readonly string[]}): HeaderNameSets {
  const lower = (xs: readonly string[]) => new Set(xs.map((x) => x.toLowerCase()))
  return {sensitive: lower(cfg.sensitiveHeaders), ignore: lower(cfg.ignoreHeaders)}
}

function scanRequestHeadersUnguarded(deps: BodyScanDeps, headers: HeaderList): ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  if (!cfg.enabled || !cfg.scanHeaders) return CLEAN
  const {sensitive, ignore} = deps.headerNames ?? headerNameSets(cfg)
  const scanned: string[] = []
  const texts: string[] = []
  // The scanned headers' values in the order received, a Cookie as its names and values: the
  // pieces a secret split between them would be in (`piecedHeaderFindings`).
  const fields: string[] = []
  // Every other header's value (issue 37: the listed headers are the fast path, not the limit).
  let rest: string[] | null = null
  for (const [name, raw] of headers) {
    const n = name.toLowerCase()
    // Node hands header bytes over as latin1: UTF-8 obfuscation (zero-width, look-alikes,
    // fullwidth) is only visible to the normaliser once the bytes are re-read as UTF-8.
    const value = utf8HeaderValue(raw)
    if (cfg.headerMode === 'sensitive' ? sensitive.has(n) : !ignore.has(n)) {
      if (n === 'cookie') cookieFields(value, fields)
      else fields.push(value)
      if (cfg.headerMode === 'sensitive') {
        texts.push(value)
        scanned.push(value)
      } else {
        const nm = utf8HeaderValue(name)
        texts.push(value, nm, nm + value)
        scanned.push(nm, value)
      }
    } else {
      // A known-clean value costs a lookup. The name too: a secret can be a header's name as well
      // as its value (the upstream receives it, lower-cased), and names repeat on every request.
      if (value !== '' && deps.cleanMemo?.has(value) !== true) (rest ??= []).push(value)
      if (deps.cleanMemo?.has(name) !== true) (rest ??= []).push(utf8HeaderValue(name))
    }
  }
  const found = new DlpCollector(deps.dlp)
  if (scanned.length > 0) {
    for (const t of texts) found.scan(t)
    // The join's texts in the order received, for seed phrases (`scanSortedJoin`).
    found.scanSortedJoin(sortedByBytes(scanned).join('\n'), scanned)
  }
  let {matches, warnings}: {matches: DlpFinding[]; warnings: DlpFinding[]} = found
  if (matches.length === 0 && fields.length >= 2) {
    const pieced = piecedHeaderFindings(deps, fields)
    matches = pieced.matches
    if (pieced.warnings.length > 0) warnings = [...warnings, ...pieced.warnings.filter((w) => !warnings.some((x) => x.pattern === w.pattern))]
  }
  if (matches.length === 0 && rest !== null) {
    const more = restOfHeaders(deps, rest)
    matches = more.matches
    if (more.warnings.length > 0) warnings = [...warnings, ...more.warnings.filter((w) => !warnings.some((x) => x.pattern === w.pattern))]
  }
  if (matches.length === 0) {
    const decoded = decodedHeaderFindings(deps, headers)
    matches = decoded.matches
    if (decoded.warnings.length > 0) warnings = [...warnings, ...decoded.warnings.filter((w) => !warnings.some((x) => x.pattern === w.pattern))]
  }
  if (matches.length === 0) return warnings.length > 0 ? {...CLEAN, dlpWarnings: warnings} : CLEAN
  const critical = matches.some((m) => m.severity === 'critical')
  const enforce = deps.settings.enforce
  const block = enforce && (critical || cfg.action === 'block')
  return {
    action: block ? 'block' : 'warn', layer: 'header_dlp', reason: 'dlp_match',
    detail: `header DLP match: ${[...new Set(matches.map((m) => m.pattern))].join(', ')}`,
    dlp: matches, dlpWarnings: warnings, injection: [],
  }
}

/**
 * Every header value (scanned or not) in the readings a body's texts get (`pushReadings`): JSON
 * in a header, as Dropbox-API-Arg carries it, decodes `\u0041`. A value holding none of `\`,
 * `&`, `<` or a byte above 0x7F (tag characters arrive as UTF-8 bytes) is skipped at once.
 */
function decodedHeaderFindings(deps: BodyScanDeps, headers: HeaderList): {matches: DlpFinding[]; warnings: DlpFinding[]} {
  const readings: string[] = []
  for (const [, raw] of headers) {
    if (MAY_READ_OTHERWISE.test(raw)) pushReadings(utf8HeaderValue(raw), readings)
  }
  if (readings.length === 0) return NO_FINDINGS
  const c = new DlpCollector(deps.dlp)
  for (const v of distinctTexts(readings)) if (c.scan(v).length > 0) break
  return c
}
const MAY_READ_OTHERWISE = /[\\&<\x80-\xff]/

/** A Cookie header's names and values in order (`a=1; b=2` → `a`, `1`, `b`, `2`): each can hold a piece. */
function cookieFields(value: string, out: string[]): void {
  for (const pair of value.split(';')) {
    const p = pair.trim()
    const eq = p.indexOf('=')
    const name = (eq < 0 ? p : p.slice(0, eq)).trim()
    const v = eq < 0 ? '' : p.slice(eq + 1).trim()
    if (name !== '') out.push(name)
    if (v !== '') out.push(v)
  }
}

const NO_FINDINGS = {matches: [] as DlpFinding[], warnings: [] as DlpFinding[]}

/** Lists up to this long are remembered as their text, longer ones by digest (the memo keeps texts of at most 512 characters). */
const PIECED_KEY_TEXT = 500

/**
 * A secret in pieces across the scanned headers: split between `Cookie` and `Authorization`, or
 * across the cookies of one `Cookie` header (`a=AKIA…; b=…`), which the sorted join above does not
 * put back together. The split-secret pass request bodies use, over the values in the order
 * received: all joined, then each junction pair both ways (split-secret.ts). A list proved clean
 * is remembered (the same cookies and credentials come on every request; a long cookie list by its
 * digest, as it would not fit the memo as text), so it costs a lookup next time.
 */
function piecedHeaderFindings(deps: BodyScanDeps, fields: readonly string[]): {matches: DlpFinding[]; warnings: DlpFinding[]} {
  const memo = deps.cleanMemo
  const joined = memo === undefined ? '' : fields.join('\u0000')
  // A NUL cannot be in a header value: the key never equals a text the memo holds for itself.
  const key = joined.length <= PIECED_KEY_TEXT ? `\u0000${joined}` : `\u0000\u0000${createHash('sha256').update(joined).digest('hex')}`
  if (memo?.has(key)) return NO_FINDINGS
  const c = new DlpCollector(deps.dlp)
  splitSecretFindings(deps.dlp, (t) => c.scan(t), fields, null, junctionWindow(deps))
  if (memo !== undefined && c.matches.length === 0 && c.warnings.length === 0) memo.add(key)
  return c
}

/**
 * The headers outside the fast path: each value through the same text DLP (normalisation,
 * decodings) as any other text. A value this scanner already proved clean is not scanned again:
 * the same `User-Agent` / `Accept` / `Host` come on every request. Not joined: a join changes
 * with every request id and costs several single scans (measured); a secret split across the
 * listed headers is still joined above.
 */
function restOfHeaders(deps: BodyScanDeps, values: readonly string[]): {matches: DlpFinding[]; warnings: DlpFinding[]} {
  const memo = deps.cleanMemo
  const c = new DlpCollector(deps.dlp)
  for (const v of values) {
    if (memo?.has(v)) continue
    const r = c.scanFull(v)
    if (memo !== undefined && r.matches.length === 0 && r.warnings.length === 0) memo.add(v)
  }
  return c
}
