/**
 * One compiled scanner per settings snapshot: the proxy builds it at startup / reload and uses
 * the same immutable object for a whole request (§25.8).
 */
import {AddressChecker} from './address-checker.js'
import {headerNameSets, scanRequestBody, scanRequestHeaders, type BodyScanInput, type ContentScanResult, type HeaderList} from './body-scanner.js'
import {CleanTextMemo} from './clean-memo.js'
import {createDlpEngine, type DlpEngine} from './dlp-engine.js'
import {
  createResponseScanner, decideResponse, decideResponseBody, scanResponse,
  type ResponseDecision, type ResponseDecisionOptions, type ResponseScanner, type ResponseScanResult, type Suppressor,
} from './response-scanner.js'
import {decideResponseHeaders, type ResponseHeaderDecision, type ResponseHeaders} from './response-headers.js'
import type {ScannerSettings} from './settings.js'
import {createSseStreamScanner, type SseStreamScanner} from './sse.js'
import {scanTextForDlp, type TextDlpResult} from './text-dlp.js'
import {createUrlScanner, scanUrl, scanUrlDlp, type UrlDlpResult, type UrlScanContext, type UrlScanner, type UrlScanResult} from './url-scanner.js'

export interface Scanner {
  readonly settings: ScannerSettings
  readonly dlp: DlpEngine
  readonly url: UrlScanner
  readonly response: ResponseScanner
  /** Address-poisoning protection (scanners-extra §4); null while `address_protection` is off. */
  readonly address: AddressChecker | null
  scanUrl(rawUrl: string, ctx: Omit<UrlScanContext, 'scanner'>): Promise<UrlScanResult>
  /** URL DLP alone over the URL target set (runtime §5.5 and beyond): the full scan's stages 10–11, nothing else. */
  scanUrlDlp(rawUrl: string): UrlDlpResult
  scanTextForDlp(text: string): TextDlpResult
  scanRequestBody(input: BodyScanInput): ContentScanResult
  scanRequestHeaders(headers: HeaderList): ContentScanResult
  scanResponse(content: string): ResponseScanResult
  decideResponse(content: string, opts?: ResponseDecisionOptions): ResponseDecision
  /** `decideResponse` for a body's bytes: its UTF-8 reading when well formed, else its text runs (issue 36). */
  decideResponseBody(body: Uint8Array, opts?: ResponseDecisionOptions): ResponseDecision
  /** The body's decision on a response's header lines (response-headers.ts); lines proven clean are remembered. */
  decideResponseHeaders(headers: ResponseHeaders, opts?: Pick<ResponseDecisionOptions, 'host' | 'suppress'>): ResponseHeaderDecision
  sseStream(suppress?: Suppressor): SseStreamScanner
}

export function createScanner(settings: ScannerSettings): Scanner {
  const dlp = createDlpEngine(settings)
  const url = createUrlScanner(settings, dlp)
  const response = createResponseScanner(settings, dlp.normalizer)
  const deps = {settings, dlp, response, headerNames: headerNameSets(settings.requestBodyScanning), cleanMemo: new CleanTextMemo()}
  // Its own memo: a line proven free of injection says nothing of DLP, and the other way round.
  const responseHeaderMemo = new CleanTextMemo()
  return {
    settings,
    dlp,
    url,
    response,
    address: settings.addressProtection?.enabled === true ? new AddressChecker(settings.addressProtection) : null,
    scanUrl: (rawUrl, ctx) => scanUrl(rawUrl, {...ctx, scanner: url}),
    scanUrlDlp: (rawUrl) => scanUrlDlp(rawUrl, url),
    scanTextForDlp: (text) => scanTextForDlp(dlp, text),
    scanRequestBody: (input) => scanRequestBody(deps, input),
    scanRequestHeaders: (headers) => scanRequestHeaders(deps, headers),
    scanResponse: (content) => scanResponse(response, content),
    decideResponse: (content, opts) => decideResponse(response, content, opts),
    decideResponseBody: (body, opts) => decideResponseBody(response, body, opts),
    decideResponseHeaders: (headers, opts) => decideResponseHeaders(response, responseHeaderMemo, headers, opts),
    sseStream: (suppress) => createSseStreamScanner(response, suppress),
  }
}
