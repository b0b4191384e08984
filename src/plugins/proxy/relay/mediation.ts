/**
 * Attaching the mediation envelope to what is forwarded (spec §4), shared by every transport that
 * forwards a request: the envelope admitted by the gate's `envelope` stage is stamped (fresh `ts`,
 * the hop's action, `hop` on a redirect), injected as `Pipelock-Mediation` and, with `sign: true`,
 * signed with the signer captured at admission (a reload never changes an in-flight chain).
 */
import {actionForMethod, EnvelopeSigner, MEDIATION_HEADER, removeEnvelopeHeaders, serializeEnvelope, type Envelope, type HeaderRecord} from '../../envelope/index.js'
import {originAndPath} from '../upstream.js'

export interface MediationAdmission {
  /** The hop-0 envelope (ts, act, se and hop are refreshed per hop). */
  readonly envelope: Envelope
  readonly signer: EnvelopeSigner | null
  /** WebSocket handshakes keep `delegate`/`external_write` whatever the method. */
  readonly fixedAction: boolean
}

export interface ForwardedRequest {
  readonly method: string
  /** Absolute http(s) URL as requested upstream (a WebSocket handshake in its http(s) form, E6 fixed). */
  readonly url: string
  /** Outbound headers, lower-case names; mutated. */
  readonly headers: HeaderRecord
  readonly body: Buffer | null
  /** Requests already sent in a redirect chain (0: the original). */
  readonly hop?: number
  /** The Host header to be sent, when it differs from the URL's (reverse proxy). */
  readonly authority?: string
}

/**
 * Injects (and signs) the envelope. False when it could not be built or signed: the envelope
 * headers are then removed and the caller blocks (spec §4.6: never forward unsigned with `sign: true`).
 */
export function attachMediation(m: MediationAdmission | undefined, r: ForwardedRequest): boolean {
  if (m === undefined) return true
  const h = r.headers
  try {
    const hop = r.hop ?? 0
    const env: Envelope = {
      ...m.envelope,
      ...(m.fixedAction ? {} : actionForMethod(r.method)),
      ts: Math.floor(Date.now() / 1000),
      ...(hop > 0 ? {hop} : {}),
    }
    h[MEDIATION_HEADER] = serializeEnvelope(env)
    if (m.signer !== null) {
      const t = originAndPath(r.url)
      // @target-uri: origin + the request line's path (E4 fixed: `/` for an empty path; E5 fixed: no userinfo).
      m.signer.sign({method: r.method, targetUri: t.origin + t.path, authority: (r.authority ?? t.host).toLowerCase(), headers: h, body: r.body})
    }
    return true
  } catch {
    removeEnvelopeHeaders(h)
    return false
  }
}

/** The spec's outbound failure text (§4.6); the block reason is `outbound_envelope_failed`. */
export const ENVELOPE_FAILED = 'mediation envelope signing failed'
