/**
 * The request body as the forward and reverse proxies read it (§6.2): buffered up to
 * `max_body_bytes` (never streamed unscanned; over the limit fails closed) and scanned.
 */
import type {IncomingMessage} from 'node:http'
import type {ContentScanResult, Suppressor} from '../scanner/index.js'
import {readCapped} from './read-capped.js'
import type {ProxySnapshot} from './state.js'

export type RequestBody =
  | {readonly kind: 'none'}
  | {readonly kind: 'over_limit'; readonly detail: string}
  /** The stream ended before its end (the client hung up mid-upload): nothing to scan or forward, and nothing found. */
  | {readonly kind: 'client_closed'}
  | {readonly kind: 'read'; readonly body: Buffer; readonly scan: ContentScanResult}

export interface RequestBodyOptions {
  /** Whether the request carries a body, when the transport knows better (HTTP/2 frames it without Content-Length). */
  readonly hasBody?: boolean
  /** The suppress entries that apply to this request's body DLP (operations.md §4). */
  readonly suppress?: Suppressor
  /** The body already read (the envelope verifier buffers it for its digest check). */
  readonly buffered?: Buffer
}

/** Whether the request carries a body: `hasBody` when the transport knows, else a non-zero Content-Length or a Transfer-Encoding. */
export function requestHasBody(req: IncomingMessage, hasBody?: boolean): boolean {
  const declared = req.headers['content-length']
  return hasBody ?? ((declared !== undefined && declared !== '0') || req.headers['transfer-encoding'] !== undefined)
}

export const NO_REQUEST_BODY: RequestBody = Object.freeze({kind: 'none'})
const CLIENT_CLOSED: RequestBody = Object.freeze({kind: 'client_closed'})

/** The audit detail of a request whose client hung up before its body was whole. */
export const CLIENT_CLOSED_DETAIL = 'client closed the connection during the request body (nothing forwarded)'

export async function readRequestBody(snap: ProxySnapshot, req: IncomingMessage, host: string, opts: RequestBodyOptions = {}): Promise<RequestBody> {
  const max = snap.scanner.settings.requestBodyScanning.maxBodyBytes
  if (opts.buffered === undefined && !requestHasBody(req, opts.hasBody)) return NO_REQUEST_BODY
  const why = {exceeded: opts.buffered !== undefined && opts.buffered.length > max}
  const body = opts.buffered !== undefined ? (why.exceeded ? null : opts.buffered) : await readCapped(req, max, {overflow: 'discard', why})
  if (body === null) return why.exceeded ? {kind: 'over_limit', detail: `request body exceeds max_body_bytes (${max})`} : CLIENT_CLOSED
  return {kind: 'read', body, scan: await scanReadBody(snap, req, body, host, opts)}
}

/**
 * §6.2 scan of a body already read (the redaction stage reads it first and hands on what is
 * forwarded): on the event loop, or for a body over 64 KiB on the snapshot's scan pool (a promise).
 */
export function scanReadBody(snap: ProxySnapshot, req: IncomingMessage, body: Buffer, host: string, opts: RequestBodyOptions = {}): ContentScanResult | Promise<ContentScanResult> {
  return snap.bodyScans.scanRequestBody(snap.scanner, {
    contentType: String(req.headers['content-type'] ?? ''),
    contentEncoding: String(req.headers['content-encoding'] ?? ''),
    transferEncoding: req.headers['transfer-encoding'],
    body,
    host,
    ...(opts.suppress === undefined ? {} : {suppress: opts.suppress}),
  })
}
