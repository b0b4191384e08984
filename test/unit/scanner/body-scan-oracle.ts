/**
 * Test oracle: request-body scanning (§6.2) as it was before the request path was made fast
 * (issue 36) — every text scanned on its own, repeats included, the sorted join encoded text by
 * text. Kept here, not in src/, for `body-scan-differential.test.ts`, which asserts that
 * `scanRequestBody` returns exactly what this returns. What did not change (the checks before the
 * texts, the text extraction, the collector and its reading of the sorted join, the pieces pass —
 * which now scans each distinct text once, the same findings —, the verdict) is the scanner's
 * own, imported.
 */
import type {BodyParts, BodyScanDeps, BodyScanInput, ContentScanResult} from '../../../src/plugins/scanner/body-scanner.js'
import {bodyVerdict, DlpCollector, piecesOf, scanOpenedBody} from '../../../src/plugins/scanner/body-scanner.js'
import {matchesAnyDomain} from '../../../src/plugins/scanner/domain-match.js'
import {scanResponse, unsuppressed, type ResponseMatch} from '../../../src/plugins/scanner/response-scanner.js'

function sortedByBytes(xs: readonly string[]): string[] {
  const keyed = xs.map((x) => ({x, b: Buffer.from(x)}))
  keyed.sort((a, b) => Buffer.compare(a.b, b.b))
  return keyed.map((k) => k.x)
}

/** `scanRequestBody` as it was (in the scanner's own frame: opening checks, fail closed). */
export function scanRequestBodyOracle(deps: BodyScanDeps, input: BodyScanInput): ContentScanResult {
  return scanOpenedBody(deps, input, oldTextScan)
}

function oldTextScan(deps: BodyScanDeps, input: BodyScanInput, body: Buffer, parts: BodyParts): ContentScanResult {
  const texts = parts.texts
  const sorted = sortedByBytes(texts)
  const found = new DlpCollector(deps.dlp)
  for (const t of texts) found.scan(t)
  if (texts.length > 1) found.scanSortedJoin(sorted.join('\n'), parts.values ?? texts)
  if (found.matches.length === 0) piecesOf(deps, found, body, parts)
  const matches = unsuppressed(found.matches, input.suppress)
  const warnings = unsuppressed(found.warnings, input.suppress)

  const exempt = input.host !== undefined && matchesAnyDomain(input.host, deps.settings.responseScanning.exemptDomains) !== null
  const injTexts = exempt ? [] : texts.length > 1 ? [...texts, texts.join('\n'), sorted.join('\n')] : texts
  const injection: ResponseMatch[] = []
  for (const t of injTexts) {
    const r = scanResponse(deps.response, t)
    if (!r.clean) {
      injection.push(...r.matches)
      break
    }
  }

  return bodyVerdict(deps, matches, warnings, injection)
}
