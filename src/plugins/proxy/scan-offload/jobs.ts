/**
 * The work a pool thread runs for the proxy (body-scans.ts sends it): the request body's §6.2 scan
 * (`scanRequestBody`), the buffered response's §7 decision (`decideResponseBody`), a git
 * push's pack check (`checkReceivePack`, containment.md §4), the text DLP (`scanTextForDlp`) and
 * injection scan (`scanResponse`) of a scan API field or a WebSocket message, the decision on an
 * upstream WebSocket text message (`decideResponse`), `/fetch`'s reading of a page's text
 * (`extractHtmlText`) and its hidden-content check (`decideHiddenContent`), and the class-preserving redaction of a request body (`redactBody`, with
 * the snapshot's redactor), each with the scanner of the snapshot view (base config or agent
 * profile) the request runs under, named by its index in the snapshot's scanners (two views may
 * share a profile name: the base view and an `agents._default` profile). A thread compiles a
 * view's scanner (and the redactor) on the first job that needs it. Every job is a pure function
 * of its input and the settings, so a thread's answer is the one the event loop would compute.
 *
 * Suppression (operations.md §4.3) acts inside a scan, and the event loop's suppressor also
 * counts and audits what it suppresses: a thread gets the suppress entries and the target as
 * data, answers with the same verdict per finding name (`suppressedBy`), and returns the names it
 * suppressed, in order, for the event loop to replay through its own suppressor.
 */
import {checkReceivePack, type PackCheck} from '../../git/index.js'
import {Redactor, type RedactionOutcome, type RedactionTarget} from '../../redaction/index.js'
import {decideHiddenContent, extractHtmlText, type ExtractedPage} from '../text-extract.js'
import {createScanner, suppressedBy, type BodyScanInput, type ContentScanResult, type ResponseDecision, type ResponseDecisionOptions, type ResponseScanResult, type Scanner, type ScannerSettings, type SuppressEntry, type Suppressor, type TextDlpResult} from '../../scanner/index.js'

export interface BodyScanInit {
  /** The settings of each view's scanner (the base view first, then every agent profile's). */
  readonly scanners: readonly ScannerSettings[]
  /** What the snapshot's redactor is made from (`Redactor.source`); null with `redaction` off. */
  readonly redaction: Redactor['source'] | null
}

/** A suppressor as data: the config's entries and the target they are matched against. */
export interface SuppressionScope {
  readonly entries: readonly SuppressEntry[]
  readonly target: string
}

export type RequestScanInput = Omit<BodyScanInput, 'suppress'>
export type ResponseScanOptions = Omit<ResponseDecisionOptions, 'suppress'>

export type BodyScanJob =
  | {readonly kind: 'request'; readonly scanner: number; readonly input: RequestScanInput; readonly suppression: SuppressionScope | null}
  | {readonly kind: 'response'; readonly scanner: number; readonly body: Uint8Array; readonly opts: ResponseScanOptions; readonly suppression: SuppressionScope | null}
  | {readonly kind: 'git_push'; readonly scanner: number; readonly body: Uint8Array}
  | {readonly kind: 'text_dlp'; readonly scanner: number; readonly text: string}
  | {readonly kind: 'injection'; readonly scanner: number; readonly content: string}
  | {readonly kind: 'decide_text'; readonly scanner: number; readonly text: string; readonly opts: ResponseScanOptions}
  | {readonly kind: 'hidden'; readonly scanner: number; readonly markup: string; readonly opts: ResponseScanOptions; readonly suppression: SuppressionScope | null}
  | {readonly kind: 'redact'; readonly target: RedactionTarget; readonly body: Uint8Array}
  | {readonly kind: 'page_text'; readonly markup: string}

export type BodyScanReply =
  | {readonly kind: 'request'; readonly result: ContentScanResult; readonly suppressed: readonly string[]}
  | {readonly kind: 'response'; readonly decision: ResponseDecision; readonly suppressed: readonly string[]}
  | {readonly kind: 'git_push'; readonly check: PackCheck}
  | {readonly kind: 'text_dlp'; readonly result: TextDlpResult}
  | {readonly kind: 'injection'; readonly result: ResponseScanResult}
  | {readonly kind: 'decide_text'; readonly decision: ResponseDecision}
  | {readonly kind: 'hidden'; readonly decision: ResponseDecision | null; readonly suppressed: readonly string[]}
  | {readonly kind: 'redact'; readonly outcome: RedactionOutcome}
  | {readonly kind: 'page_text'; readonly page: ExtractedPage}

/** The suppressor a scope describes; each name it suppresses is noted in `suppressed`. */
function noting(scope: SuppressionScope, suppressed: string[]): Suppressor {
  return (name) => {
    if (suppressedBy(scope.entries, name, scope.target) < 0) return false
    suppressed.push(name)
    return true
  }
}

/** Bytes that crossed between threads (structured clone hands over a Uint8Array) as a Buffer, not copied. */
export function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

/** The thread side: one answer per job (body-scans-worker.ts registers it with `serveJobs`). */
export function bodyScanHandler(init: BodyScanInit): (job: BodyScanJob) => BodyScanReply {
  const scanners: Array<Scanner | undefined> = []
  const scannerOf = (i: number): Scanner => {
    let sc = scanners[i]
    if (sc === undefined) {
      const settings = init.scanners[i]
      if (settings === undefined) throw new Error(`no scanner settings at index ${i}`)
      scanners[i] = sc = createScanner(settings)
    }
    return sc
  }
  let redactor: Redactor | undefined
  return (job) => {
    if (job.kind === 'page_text') return {kind: 'page_text', page: extractHtmlText(job.markup)}
    if (job.kind === 'redact') {
      if (init.redaction === null) throw new Error('redaction is off in this snapshot')
      redactor ??= new Redactor(init.redaction.cfg, init.redaction.known)
      return {kind: 'redact', outcome: redactor.redactBody(job.target, asBuffer(job.body))}
    }
    const sc = scannerOf(job.scanner)
    if (job.kind === 'git_push') return {kind: 'git_push', check: checkReceivePack(sc, asBuffer(job.body))}
    if (job.kind === 'text_dlp') return {kind: 'text_dlp', result: sc.scanTextForDlp(job.text)}
    if (job.kind === 'injection') return {kind: 'injection', result: sc.scanResponse(job.content)}
    if (job.kind === 'decide_text') return {kind: 'decide_text', decision: sc.decideResponse(job.text, job.opts)}
    const suppressed: string[] = []
    const suppress = job.suppression === null ? {} : {suppress: noting(job.suppression, suppressed)}
    if (job.kind === 'hidden') return {kind: 'hidden', decision: decideHiddenContent(sc, job.markup, {...job.opts, ...suppress}), suppressed}
    if (job.kind === 'request') {
      return {kind: 'request', result: sc.scanRequestBody({...job.input, body: asBuffer(job.input.body), ...suppress}), suppressed}
    }
    return {kind: 'response', decision: sc.decideResponseBody(asBuffer(job.body), {...job.opts, ...suppress}), suppressed}
  }
}
