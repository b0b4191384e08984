/**
 * Test oracle: request-body scanning (§6.2) as it was before the request path was made fast
 * (issue 36) — every text scanned on its own, repeats included, the sorted join encoded text by
 * text. Kept here, not in src/, for `body-scan-differential.test.ts`, which asserts that
 * `scanRequestBody` returns exactly what this returns.
 */
import {goUnescape} from '../../../src/plugins/canonical/index.js'
import type {BodyScanDeps, BodyScanInput, ContentScanResult} from '../../../src/plugins/scanner/body-scanner.js'
import {BodyParseError, isCompressedEncoding} from '../../../src/plugins/scanner/body-scanner.js'
import type {DlpEngine, DlpFinding} from '../../../src/plugins/scanner/dlp-engine.js'
import {matchesAnyDomain} from '../../../src/plugins/scanner/domain-match.js'
import {decodeHtmlReferences, printableRuns} from '../../../src/plugins/scanner/decoders.js'
import {extractJsonParts, JsonTextError} from '../../../src/plugins/scanner/json-texts.js'
import {MultipartError, multipartTexts, parseContentType} from '../../../src/plugins/scanner/multipart.js'
import {scanResponse, unsuppressed, type ResponseMatch} from '../../../src/plugins/scanner/response-scanner.js'
import {junctionWindow, splitSecretFindings} from '../../../src/plugins/scanner/split-secret.js'
import {scanTextForDlp} from '../../../src/plugins/scanner/text-dlp.js'
import {bodyScanText} from '../../../src/plugins/scanner/text-runs.js'

const CLEAN: ContentScanResult = {action: 'allow', layer: null, reason: null, detail: 'clean', dlp: [], dlpWarnings: [], injection: []}

function refuse(detail: string): ContentScanResult {
  return {action: 'block', layer: 'body_dlp', reason: 'dlp_match', detail, dlp: [], dlpWarnings: [], injection: []}
}

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

interface BodyParts {
  readonly texts: string[]
  readonly values: string[] | null
  readonly charArrays: readonly string[]
}

function extractBodyParts(contentType: string | undefined, body: Buffer, maxBodyBytes: number): BodyParts {
  const {type, params} = parseContentType(contentType ?? '')
  if (type === 'application/json' || type.endsWith('+json')) return extractJsonParts(body.toString('utf8'))
  if (type === 'application/x-www-form-urlencoded') {
    const texts = parseForm(body.toString('utf8'))
    return {texts, values: texts.filter((_, k) => k % 2 === 1), charArrays: []}
  }
  if (type.startsWith('multipart/')) return {texts: multipartTexts(body, params, maxBodyBytes), values: null, charArrays: []}
  return {texts: [bodyScanText(body)], values: null, charArrays: []}
}

function sortedByBytes(xs: readonly string[]): string[] {
  const keyed = xs.map((x) => ({x, b: Buffer.from(x)}))
  keyed.sort((a, b) => Buffer.compare(a.b, b.b))
  return keyed.map((k) => k.x)
}

class DlpCollector {
  readonly matches: DlpFinding[] = []
  readonly warnings: DlpFinding[] = []
  private readonly seen = new Set<string>()
  constructor(private readonly engine: DlpEngine) {}
  scan(t: string): DlpFinding[] {
    const r = scanTextForDlp(this.engine, t)
    this.add(this.matches, r.matches)
    this.add(this.warnings, r.warnings)
    return r.matches
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

function piecesOf(deps: BodyScanDeps, c: DlpCollector, body: Buffer, parts: BodyParts): void {
  const extra: string[] = [...parts.charArrays]
  const runs = printableRuns(body)
  if (runs !== null && runs !== '') extra.push(runs)
  for (const t of [...parts.texts, ...parts.charArrays]) {
    const d = decodeHtmlReferences(t)
    if (d !== t) extra.push(d)
  }
  for (const t of extra) if (c.scan(t).length > 0) return
  const values = parts.values
  if (values === null || values.length < 2) return
  const window = junctionWindow(deps)
  const scan = (t: string): DlpFinding[] => c.scan(t)
  if (splitSecretFindings(deps.dlp, scan, values, null, window).length > 0) return
  const decoded = values.map(decodeHtmlReferences)
  if (decoded.some((d, k) => d !== values[k])) splitSecretFindings(deps.dlp, scan, decoded, null, window)
}

/** `scanRequestBody` as it was (fail closed on any internal error, as there). */
export function scanRequestBodyOracle(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  try {
    return unguarded(deps, input)
  } catch {
    return refuse('request body could not be scanned')
  }
}

function unguarded(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  const cfg = deps.settings.requestBodyScanning
  if (!cfg.enabled) return CLEAN
  if (isCompressedEncoding(input.contentEncoding)) return refuse('compressed bodies cannot be scanned')
  const body = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength)
  if (body.length > cfg.maxBodyBytes) return refuse(`request body exceeds max_body_bytes (${cfg.maxBodyBytes})`)
  if (body.length === 0) return CLEAN
  let parts: BodyParts
  try {
    parts = extractBodyParts(input.contentType, body, cfg.maxBodyBytes)
  } catch (e) {
    if (e instanceof JsonTextError || e instanceof BodyParseError || e instanceof MultipartError) return refuse(e.message)
    return refuse('request body cannot be parsed')
  }
  const texts = parts.texts
  const sorted = sortedByBytes(texts)
  const dlpTexts = texts.length > 1 ? [...texts, sorted.join('\n')] : texts
  const found = new DlpCollector(deps.dlp)
  for (const t of dlpTexts) found.scan(t)
  if (found.matches.length === 0) piecesOf(deps, found, body, parts)
  const matches = unsuppressed(found.matches, input.suppress)
  const warnings = unsuppressed(found.warnings, input.suppress)

  const injTexts = texts.length > 1 ? [...texts, texts.join('\n'), sorted.join('\n')] : texts
  const injection: ResponseMatch[] = []
  const exempt = input.host !== undefined && matchesAnyDomain(input.host, deps.settings.responseScanning.exemptDomains) !== null
  for (const t of injTexts) {
    const r = scanResponse(deps.response, t)
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
