/**
 * Inbound verification (spec §6.3): one check after another, the first failure wins, each with
 * its code. The verified envelope is returned but never changes local identity (spec §6.1).
 */
import {verifyBytes} from '../signing/index.js'
import {SIGNATURE_ALG, SIGNATURE_TAG, SUPPORTED_COMPONENTS} from './constants.js'
import {headerLines, type HeaderRecord} from './headers.js'
import {MEDIATION_HEADER, parseEnvelope, type Envelope} from './mediation.js'
import type {ReplayCache} from './replay-cache.js'
import {contentDigest, signatureBase} from './signature-base.js'
import {param, parseDictionary, serializeInnerList, type SfDictionary} from './sfv.js'
import {ActorError, parseActor} from './spiffe.js'

export type VerifyCode = 'missing' | 'parse' | 'not_trusted' | 'signature' | 'expired' | 'digest' | 'replay' | 'failed'

export interface TrustedKey {
  readonly keyId: string
  readonly publicKey: Buffer
  /** Empty: any trust domain (v2.4 migration behaviour). */
  readonly trustDomains: readonly string[]
}

export interface VerifierOptions {
  readonly trust: readonly TrustedKey[]
  readonly skewSeconds: number
  readonly windowSeconds: number
  readonly strictActor: boolean
  readonly replay: ReplayCache
  /** No lifetime cap (`trust verify`). */
  readonly uncappedLifetime?: boolean
  readonly now?: () => number
}

/** The request as received, rebuilt server-side (spec §6.2). */
export interface InboundRequest {
  readonly method: string
  readonly targetUri: string
  readonly authority: string
  readonly headers: HeaderRecord
  /** The buffered body (null: none read). */
  readonly body: Buffer | null
}

export type VerifyResult =
  | {readonly ok: true; readonly envelope: Envelope; readonly keyId: string; readonly evicted: number}
  | {readonly ok: false; readonly code: VerifyCode; readonly message: string}

class Fail extends Error {
  constructor(readonly code: VerifyCode, message: string) {
    super(message)
  }
}

export class EnvelopeVerifier {
  constructor(readonly o: VerifierOptions) {}

  verify(req: InboundRequest): VerifyResult {
    try {
      return this.run(req)
    } catch (e) {
      if (e instanceof Fail) return {ok: false, code: e.code, message: e.message}
      return {ok: false, code: 'failed', message: (e as Error).message}
    }
  }

  private run(req: InboundRequest): VerifyResult {
    const h = req.headers
    const env = headerLines(h, MEDIATION_HEADER)
    // 1
    if (env.length === 0) throw new Fail('missing', 'missing Pipelock-Mediation header')
    // E16 fixed: a repeated header is refused rather than the first one used.
    if (env.length > 1) throw new Fail('parse', 'parse Pipelock-Mediation: repeated header')
    if (headerLines(h, 'content-digest').length > 1) throw new Fail('parse', 'parse Content-Digest: repeated header')
    // 2
    let envelope: Envelope
    try {
      envelope = parseEnvelope(env[0]!)
    } catch (e) {
      throw new Fail('parse', `parse Pipelock-Mediation: ${(e as Error).message}`)
    }
    // 3
    let actor
    try {
      actor = parseActor(envelope.actor, this.o.strictActor)
    } catch (e) {
      throw new Fail('parse', `parse actor: ${(e as ActorError).message}`)
    }
    // 4
    let input: SfDictionary
    let sigs: SfDictionary
    try {
      input = parseDictionary(headerLines(h, 'signature-input'))
    } catch (e) {
      throw new Fail('parse', `parse Signature-Input: ${(e as Error).message}`)
    }
    try {
      sigs = parseDictionary(headerLines(h, 'signature'))
    } catch (e) {
      throw new Fail('parse', `parse Signature: ${(e as Error).message}`)
    }
    const found = input.find(([k, m]) => {
      if (!k.startsWith('pipelock') || m.kind !== 'list') return false
      const tag = param(m.params, 'tag')
      return tag?.t === 'str' && tag.v === SIGNATURE_TAG
    })
    if (found === undefined) throw new Fail('parse', 'missing pipelock mediation signature')
    const [label, member] = found
    if (member.kind !== 'list') throw new Fail('parse', 'missing pipelock mediation signature')
    // 5
    const sm = sigs.find(([k]) => k === label)?.[1]
    if (sm === undefined || sm.kind !== 'item' || sm.value.t !== 'bytes') throw new Fail('parse', `signature "${label}" missing matching Signature member`)
    const signature = sm.value.v
    if (signature.length !== 64) throw new Fail('parse', `signature "${label}" length=${signature.length}, want 64`)
    // 6
    const keyid = param(member.params, 'keyid')
    if (keyid === undefined || keyid.t !== 'str' || keyid.v.trim() === '') throw new Fail('parse', 'signature parameter "keyid" must be a non-empty string')
    const key = this.o.trust.find((k) => k.keyId === keyid.v)
    if (key === undefined) throw new Fail('not_trusted', `untrusted key_id "${keyid.v}"`)
    // 7
    if (key.trustDomains.length > 0) {
      if (!actor.spiffe) throw new Fail('not_trusted', 'trusted key requires SPIFFE actor trust domain')
      if (!key.trustDomains.includes(actor.trustDomain)) throw new Fail('not_trusted', 'trusted key not authorized for actor trust domain')
    }
    // 8, 9
    const alg = param(member.params, 'alg')
    if (alg === undefined || alg.t !== 'str' || alg.v.trim() === '') throw new Fail('parse', 'signature parameter "alg" must be a non-empty string')
    if (alg.v !== SIGNATURE_ALG) throw new Fail('signature', `unsupported signature alg "${alg.v}"`)
    // 10
    const intParam = (p: string): number => {
      const v = param(member.params, p)
      if (v === undefined) throw new Fail('parse', `signature parameter "${p}" is required`)
      if (v.t !== 'int') throw new Fail('parse', `signature parameter "${p}" must be an integer`)
      return v.v
    }
    const created = intParam('created')
    const expires = intParam('expires')
    const nonce = param(member.params, 'nonce')
    if (nonce === undefined) throw new Fail('parse', 'signature parameter "nonce" is required')
    if (nonce.t !== 'str' || nonce.v.trim() === '') throw new Fail('parse', 'signature parameter "nonce" must be a non-empty string')
    // 11 (spec §6.4)
    const now = Math.floor(this.o.now?.() ?? Date.now() / 1000)
    const skew = this.o.skewSeconds === 0 ? 60 : this.o.skewSeconds
    if (created > now + skew) throw new Fail('expired', 'signature created in the future')
    if (expires <= now - skew) throw new Fail('expired', 'signature expired')
    if (expires <= created) throw new Fail('expired', 'signature expires before created')
    if (this.o.uncappedLifetime !== true && expires - created > this.o.windowSeconds + skew) throw new Fail('expired', 'signature lifetime exceeds maximum')
    // 12
    const lines: Array<[string, string]> = []
    const seen = new Set<string>()
    for (const it of member.items) {
      // E15 fixed: duplicate or upper-case component ids are refused, not folded.
      if (it.value.t !== 'str' || it.params.length > 0 || !SUPPORTED_COMPONENTS.has(it.value.v) || seen.has(it.value.v)) {
        throw new Fail('parse', `unsupported signed component "${it.value.t === 'str' ? it.value.v : '?'}"`)
      }
      const c = it.value.v
      seen.add(c)
      if (c === '@method') lines.push([c, req.method])
      else if (c === '@target-uri') lines.push([c, req.targetUri])
      else if (c === '@authority') lines.push([c, req.authority.toLowerCase()])
      else {
        const v = headerLines(h, c)[0]
        if (v === undefined) throw new Fail(c === 'content-digest' ? 'digest' : 'parse', c === 'content-digest' ? 'content-digest is required' : `signed component "${c}" is missing`)
        lines.push([c, v])
      }
    }
    if (lines.length === 0) throw new Fail('parse', 'signature covers no components')
    const bodyLen = req.body?.length ?? 0
    const declared = Number(headerLines(h, 'content-length')[0] ?? '0')
    if (seen.has('content-digest')) {
      if (req.body === null) throw new Fail('digest', 'content-digest covered but body was not provided')
      if (headerLines(h, 'content-digest')[0] !== contentDigest(req.body)) throw new Fail('digest', 'content-digest mismatch')
    } else if (bodyLen > 0 || declared > 0) throw new Fail('digest', 'body-bearing request signature must cover content-digest')
    // 13, 14
    const base = signatureBase(lines, serializeInnerList(member))
    if (!verifyBytes(key.publicKey, Buffer.from(base, 'utf8'), signature)) throw new Fail('signature', 'signature verification failed')
    // 15 (spec §6.5; E7 fixed: kept until expires + skew)
    const before = this.o.replay.liveEvictions
    if (!this.o.replay.admit(nonce.v, expires + skew, now)) throw new Fail('replay', 'signature replay detected')
    // E9 (replicated): live nonces evicted at capacity to admit this one; the caller logs them.
    return {ok: true, envelope, keyId: key.keyId, evicted: this.o.replay.liveEvictions - before}
  }
}
