/**
 * Request-body DLP for the forward proxy (§6.2): fail closed on compressed, oversized or
 * unparsable bodies; extract texts by media type; text DLP on each text and on their sorted
 * join. The prompt-injection half of §6.2 needs the response scanner: it is called through the
 * `injection` seam and the feature refuses to start while that seam is empty.
 */
import {scanTextForDlp, type DlpFinding, type UrlScanner} from '../scanner/index.js'
import type {ResponseInjectionScanner} from './response-scan.js'

export interface BodyScanOutcome {
  /** null = clean (or warn-only). */
  readonly block: null | {readonly layer: 'body_dlp' | 'body_prompt_injection'; readonly detail: string}
  readonly warnings: readonly DlpFinding[]
  readonly matches: readonly DlpFinding[]
}

const clean = (warnings: DlpFinding[] = [], matches: DlpFinding[] = []): BodyScanOutcome => ({block: null, warnings, matches})

function jsonTexts(v: unknown, out: string[], depth: number): boolean {
  if (depth > 64) return false
  if (typeof v === 'string') out.push(v)
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v))
  else if (Array.isArray(v)) {
    for (const x of v) if (!jsonTexts(x, out, depth + 1)) return false
  } else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.push(k)
      if (!jsonTexts(x, out, depth + 1)) return false
    }
  }
  return true
}

function formTexts(body: string, out: string[]): boolean {
  for (const part of body.split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    try {
      const dec = (s: string): string => decodeURIComponent(s.replace(/\+/g, ' '))
      out.push(dec(eq < 0 ? part : part.slice(0, eq)))
      if (eq >= 0) out.push(dec(part.slice(eq + 1)))
    } catch {
      return false
    }
  }
  return true
}

export function scanRequestBody(
  scanner: UrlScanner,
  contentType: string,
  contentEncoding: string,
  body: Buffer,
  host: string,
  injection: ResponseInjectionScanner | null,
): BodyScanOutcome {
  const rb = scanner.settings.requestBodyScanning
  const enforce = scanner.settings.enforce
  const blockIf = (layer: 'body_dlp' | 'body_prompt_injection', detail: string): BodyScanOutcome => ({block: {layer, detail}, warnings: [], matches: []})
  const enc = contentEncoding.split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '' && s !== 'identity')
  if (enc.length > 0) return blockIf('body_dlp', 'compressed bodies cannot be scanned')
  if (body.length > rb.maxBodyBytes) return blockIf('body_dlp', `request body exceeds max_body_bytes (${rb.maxBodyBytes})`)
  if (body.length === 0) return clean()
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  const text = body.toString('utf8')
  const texts: string[] = []
  if (type === 'application/json' || type.endsWith('+json')) {
    let v: unknown
    try {
      v = JSON.parse(text)
    } catch {
      return blockIf('body_dlp', 'invalid JSON body')
    }
    if (!jsonTexts(v, texts, 0)) return blockIf('body_dlp', 'JSON body nested too deeply')
  } else if (type === 'application/x-www-form-urlencoded') {
    if (!formTexts(text, texts)) return blockIf('body_dlp', 'malformed form body')
  } else {
    // multipart/form-data and everything else: the whole body as one text (DLP sees every part).
    texts.push(text)
  }
  const matches: DlpFinding[] = []
  const warnings: DlpFinding[] = []
  const candidates = texts.length > 1 ? [...texts, [...texts].sort().join('\n')] : texts
  for (const t of candidates) {
    const r = scanTextForDlp(scanner.dlp, t)
    matches.push(...r.matches)
    warnings.push(...r.warnings)
  }
  if (injection !== null && !injection.isExempt(host)) {
    for (const t of [...texts, texts.join('\n')]) {
      const hit = injection.scan(t)
      if (hit.matches.length > 0) return blockIf('body_prompt_injection', `body contains prompt injection: ${hit.matches[0]!.pattern}`)
    }
  }
  if (matches.length === 0) return clean(warnings)
  const critical = matches.some((m) => m.severity === 'critical')
  const names = [...new Set(matches.map((m) => m.pattern))].join(', ')
  if (enforce && (critical || rb.action === 'block')) return {block: {layer: 'body_dlp', detail: `request body contains secret: ${names}`}, warnings, matches}
  return clean(warnings, matches)
}
