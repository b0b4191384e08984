/**
 * `pipelock envelope trust verify --stdin` (spec §10): one HTTP/1.x request read from stdin,
 * verified with the store's key for the actor's trust domain (E11 fixed: the signature's keyid
 * need not equal the domain, so stock `pipelock-mediation-v1` signatures verify), pinned to that
 * domain, strict actors, skew 60 s, a fresh replay cache and no lifetime cap; then the actor must
 * be allowed by a record of its domain (a domain record: any workload; an id record: exactly it).
 */
import {PipelockError} from '../errors/index.js'
import type {HeaderRecord} from './headers.js'
import {MEDIATION_HEADER, parseEnvelope} from './mediation.js'
import {ReplayCache} from './replay-cache.js'
import {parseDictionary, param} from './sfv.js'
import {parseActor} from './spiffe.js'
import type {TrustRecord} from './trust-store.js'
import {EnvelopeVerifier} from './verifier.js'

export const MAX_REQUEST_BYTES = 17_825_792
export const MAX_BODY_BYTES = 16_777_216

const input = (m: string): never => {
  throw new PipelockError('ENVELOPE_TRUST_INVALID', m)
}
const failed = (m: string): never => {
  throw new PipelockError('ENVELOPE_VERIFY_FAILED', m)
}

export interface ParsedRequest {
  readonly method: string
  readonly target: string
  readonly headers: HeaderRecord
  readonly body: Buffer | null
}

/** An HTTP/1.x request (request line, headers, Content-Length body). */
export function parseHttpRequest(raw: Buffer): ParsedRequest {
  if (raw.length > MAX_REQUEST_BYTES) input(`request exceeds ${MAX_REQUEST_BYTES} bytes`)
  let end = raw.indexOf('\r\n\r\n')
  let sep = 4
  if (end < 0) {
    end = raw.indexOf('\n\n')
    sep = 2
  }
  const head = (end < 0 ? raw : raw.subarray(0, end)).toString('latin1').split(/\r?\n/)
  const m = /^([A-Z]+) (\S+) HTTP\/1\.[01]$/.exec(head[0] ?? '')
  if (m === null) return input('stdin is not an HTTP/1.x request')
  const headers: HeaderRecord = {}
  for (const line of head.slice(1)) {
    const i = line.indexOf(':')
    if (i <= 0) return input(`malformed header line "${line}"`)
    const k = line.slice(0, i).trim().toLowerCase()
    const v = line.slice(i + 1).trim()
    const prev = headers[k]
    headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  const rest = end < 0 ? Buffer.alloc(0) : raw.subarray(end + sep)
  const cl = Number(headers['content-length'] ?? 0)
  if (cl > MAX_BODY_BYTES || rest.length > MAX_BODY_BYTES) input(`request body exceeds ${MAX_BODY_BYTES} bytes`)
  const body = cl > 0 ? rest.subarray(0, cl) : rest.length > 0 ? rest : null
  return {method: m[1]!, target: m[2]!, headers, body}
}

export interface TrustVerifyResult {
  readonly verified: true
  readonly actor: string
  readonly trust_domain: string
}

export function verifyWithStore(records: readonly TrustRecord[], req: ParsedRequest, nowSeconds?: number, storeOnly = false): TrustVerifyResult {
  if (records.length === 0) input('trust store is empty')
  const keyOf = new Map<string, string>()
  for (const r of records) {
    const k = keyOf.get(r.trust_domain)
    if (k !== undefined && k !== r.key_hex) input(`trust domain "${r.trust_domain}" has multiple keys; split it into one key before verifying`)
    keyOf.set(r.trust_domain, r.key_hex)
  }
  if (storeOnly) return {verified: true, actor: '', trust_domain: ''}
  const host = String(req.headers.host ?? '')
  // E12 (replicated): origin-form is rebuilt as http://; send an absolute-form line for https.
  const targetUri = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.target) ? req.target : `http://${host}${req.target}`
  let actor
  let keyid = ''
  try {
    const env = parseEnvelope(String(req.headers[MEDIATION_HEADER] ?? ''))
    actor = parseActor(env.actor, true)
    const sigInput = parseDictionary(String(req.headers['signature-input'] ?? ''))
    const m = sigInput.find(([k, v]) => k.startsWith('pipelock') && v.kind === 'list')?.[1]
    const id = m === undefined ? undefined : param(m.params, 'keyid')
    if (id?.t === 'str') keyid = id.v
  } catch (e) {
    return failed(`verification failed: ${(e as Error).message}`)
  }
  if (!actor.spiffe) return failed('verification failed: actor must be a SPIFFE ID')
  const key = keyOf.get(actor.trustDomain)
  if (key === undefined) return failed(`actor "${actor.id}" is not in the trust list`)
  const v = new EnvelopeVerifier({
    trust: [{keyId: keyid, publicKey: Buffer.from(key, 'hex'), trustDomains: [actor.trustDomain]}],
    skewSeconds: 60, windowSeconds: 0, strictActor: true, replay: new ReplayCache(16), uncappedLifetime: true,
    ...(nowSeconds !== undefined ? {now: () => nowSeconds} : {}),
  })
  const r = v.verify({method: req.method, targetUri, authority: host, headers: req.headers, body: req.body})
  if (!r.ok) return failed(`verification failed: ${r.message}`)
  const allowed = records.some((rec) => rec.trust_domain === actor.trustDomain && (rec.spiffe_id === undefined || rec.spiffe_id === '' || rec.spiffe_id === actor.id))
  if (!allowed) return failed(`actor "${actor.id}" is not in the trust list`)
  return {verified: true, actor: actor.id, trust_domain: actor.trustDomain}
}
