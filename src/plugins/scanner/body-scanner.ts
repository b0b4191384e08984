/**
 * Request-body scanning (§6.2) and header DLP (§6.3). Every parse problem is a block: a body
 * the scanner cannot read is never forwarded unscanned (fail closed).
 */
import {goUnescape} from '../canonical/index.js'
import type {DlpEngine, DlpFinding} from './dlp-engine.js'
import {matchesAnyDomain} from './domain-match.js'
import {extractJsonTexts, JsonTextError} from './json-texts.js'
import {MULTIPART_LIMITS, MultipartError, multipartTexts, parseContentType} from './multipart.js'
import {scanResponse, unsuppressed, type ResponseMatch, type ResponseScanner, type Suppressor} from './response-scanner.js'
import type {ScannerSettings} from './settings.js'
import {scanTextForDlp} from './text-dlp.js'

export interface BodyScanInput {
  readonly contentType?: string
  readonly contentEncoding?: string
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

function refuse(detail: string): ContentScanResult {
  return {action: 'block', layer: 'body_dlp', reason: 'dlp_match', detail, dlp: [], dlpWarnings: [], injection: []}
}

/** True when a `Content-Encoding` value names anything but identity (comma list, case-insensitive). */
export function isCompressedEncoding(value: string | undefined): boolean {
  if (value === undefined) return false
  return value.split(',').map((v) => v.trim().toLowerCase()).some((v) => v !== '' && v !== 'identity')
}

export class BodyParseError extends Error {}

export {MULTIPART_LIMITS}

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
  const {type, params} = parseContentType(contentType ?? '')
  if (type === 'application/json' || type.endsWith('+json')) return extractJsonTexts(body.toString('utf8'))
  if (type === 'application/x-www-form-urlencoded') return parseForm(body.toString('utf8'))
  if (type.startsWith('multipart/')) return multipartTexts(body, params, maxBodyBytes)
  return [body.toString('utf8')]
}

function sortedByBytes(xs: readonly string[]): string[] {
  return [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
}

function dlpOver(engine: DlpEngine, texts: readonly string[]): {matches: DlpFinding[]; warnings: DlpFinding[]} {
  const matches: DlpFinding[] = []
  const warnings: DlpFinding[] = []
  const seen = new Set<string>()
  const add = (list: DlpFinding[], fs: readonly DlpFinding[]): void => {
    for (const f of fs) {
      const k = `${f.warn}\u0000${f.pattern}\u0000${f.encoding}`
      if (seen.has(k)) continue
      seen.add(k)
      list.push(f)
    }
  }
  for (const t of texts) {
    const r = scanTextForDlp(engine, t)
    add(matches, r.matches)
    add(warnings, r.warnings)
  }
  return {matches, warnings}
}

export interface BodyScanDeps {
  readonly settings: ScannerSettings
  readonly dlp: DlpEngine
  readonly response: ResponseScanner
  readonly headerNames?: HeaderNameSets
}

/** §6.2 request-body scan. Never throws: an internal error refuses the body (fail closed). */
export function scanRequestBody(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  try {
    return scanRequestBodyUnguarded(deps, input)
  } catch {
    return refuse('request body could not be scanned')
  }
}

function scanRequestBodyUnguarded(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  if (!cfg.enabled) return CLEAN
  if (isCompressedEncoding(input.contentEncoding)) return refuse('compressed bodies cannot be scanned')
  const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
  if (body.length > cfg.maxBodyBytes) return refuse(`request body exceeds max_body_bytes (${cfg.maxBodyBytes})`)
  if (body.length === 0) return CLEAN
  let texts: string[]
  try {
    texts = extractBodyTexts(input.contentType, body, cfg.maxBodyBytes)
  } catch (e) {
    if (e instanceof JsonTextError || e instanceof BodyParseError || e instanceof MultipartError) return refuse(e.message)
    return refuse('request body cannot be parsed')
  }
  const sorted = sortedByBytes(texts)
  const dlpTexts = texts.length > 1 ? [...texts, sorted.join('\n')] : texts
  const found = dlpOver(deps.dlp, dlpTexts)
  const matches = unsuppressed(found.matches, input.suppress)
  const warnings = unsuppressed(found.warnings, input.suppress)

  const injTexts = texts.length > 1 ? [...texts, texts.join('\n'), sorted.join('\n')] : texts
  const injection: ResponseMatch[] = []
  const exempt = input.host !== undefined && matchesAnyDomain(input.host, deps.settings.responseScanning.exemptDomains) !== null
  for (const t of injTexts) {
    const r = scanResponse(deps.response, t)
    // Exempt hosts skip configured injection patterns; core hits still count.
    if (!r.clean && (!exempt || r.core)) {
      injection.push(...r.matches)
      break
    }
  }

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
  for (const [name, raw] of headers) {
    const n = name.toLowerCase()
    // Node hands header bytes over as latin1: UTF-8 obfuscation (zero-width, look-alikes,
    // fullwidth) is only visible to the normaliser once the bytes are re-read as UTF-8.
    const value = utf8HeaderValue(raw)
    if (cfg.headerMode === 'sensitive') {
      if (!sensitive.has(n)) continue
      texts.push(value)
      scanned.push(value)
    } else {
      if (ignore.has(n)) continue
      const nm = utf8HeaderValue(name)
      texts.push(value, nm, nm + value)
      scanned.push(nm, value)
    }
  }
  if (scanned.length === 0) return CLEAN
  texts.push(sortedByBytes(scanned).join('\n'))
  const {matches, warnings} = dlpOver(deps.dlp, texts)
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
