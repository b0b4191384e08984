/**
 * Outbound signing (spec §4): the `pipelock1` member of `Signature-Input`/`Signature` over the
 * effective components, merged beside any other (client) signatures.
 */
import {randomBytes} from 'node:crypto'
import {signBytes, type Ed25519KeyPair} from '../signing/index.js'
import {SIGNATURE_ALG, SIGNATURE_LABEL, SIGNATURE_TAG} from './constants.js'
import {headerLines, type HeaderRecord} from './headers.js'
import {MEDIATION_HEADER} from './mediation.js'
import {contentDigest, signatureBase} from './signature-base.js'
import {parseDictionary, serializeDictionary, serializeInnerList, sfItem, SfError, type SfDictionary, type SfInnerList} from './sfv.js'

export interface SignerOptions {
  readonly keyPair: Ed25519KeyPair
  readonly keyId: string
  readonly components: readonly string[]
  readonly lifetimeSeconds: number
  readonly maxBodyBytes: number
  /** Unix seconds (injected for vectors). */
  readonly now?: () => number
  /** 32 lowercase hex (injected for vectors). */
  readonly nonce?: () => string
}

/** What is signed: the request exactly as it goes upstream. */
export interface OutboundRequest {
  readonly method: string
  /** Lower-case scheme `://` host[:port] + the request line's path and query (spec §4.3). */
  readonly targetUri: string
  /** Host to be sent, lower-cased. */
  readonly authority: string
  /** Outbound headers (lower-case names); `pipelock-mediation` already set. Mutated. */
  readonly headers: HeaderRecord
  readonly body: Buffer | null
}

export const ENVELOPE_HEADERS = [MEDIATION_HEADER, 'signature', 'signature-input', 'content-digest'] as const

export class EnvelopeSigner {
  readonly publicKeyHex: string
  constructor(readonly o: SignerOptions) {
    this.publicKeyHex = o.keyPair.publicKey.toString('hex')
  }

  get keyId(): string {
    return this.o.keyId
  }

  /**
   * Sets Content-Digest (or removes it) and merges the `pipelock1` signature. Throws on any
   * failure; the caller then removes the four envelope headers and blocks (spec §4.6).
   */
  sign(req: OutboundRequest): void {
    const h = req.headers
    const body = req.body
    const hasBody = body !== null && body.length > 0 && body.length <= this.o.maxBodyBytes
    const lines: Array<[string, string]> = []
    for (const c of this.o.components) {
      if (c === '@method') lines.push([c, req.method])
      else if (c === '@target-uri') lines.push([c, req.targetUri])
      else if (c === '@authority') lines.push([c, req.authority.toLowerCase()])
      else if (c === 'content-digest') {
        if (!hasBody) continue
        const digest = contentDigest(body!)
        h['content-digest'] = digest
        lines.push([c, digest])
      } else if (c === MEDIATION_HEADER) {
        const v = headerLines(h, MEDIATION_HEADER)[0]
        if (v !== undefined) lines.push([c, v])
      } else throw new SfError(`unsupported signed component "${c}"`)
    }
    if (lines.length === 0) throw new SfError('no signable components')
    // A client digest never survives a signed request (spec §4.2, E18).
    if (!lines.some(([c]) => c === 'content-digest')) delete h['content-digest']
    const created = Math.floor(this.o.now?.() ?? Date.now() / 1000)
    const params: SfInnerList = {
      kind: 'list',
      items: lines.map(([c]) => sfItem({t: 'str', v: c})),
      params: [
        ['keyid', {t: 'str', v: this.o.keyId}],
        ['alg', {t: 'str', v: SIGNATURE_ALG}],
        ['tag', {t: 'str', v: SIGNATURE_TAG}],
        ['nonce', {t: 'str', v: this.o.nonce?.() ?? randomBytes(16).toString('hex')}],
        ['created', {t: 'int', v: created}],
        ['expires', {t: 'int', v: created + Math.floor(this.o.lifetimeSeconds)}],
      ],
    }
    const paramsText = serializeInnerList(params)
    const sig = signBytes(this.o.keyPair, Buffer.from(signatureBase(lines, paramsText), 'utf8'))
    const input = mergeMember(headerLines(h, 'signature-input'), params)
    const signature = mergeMember(headerLines(h, 'signature'), sfItem({t: 'bytes', v: sig}))
    h['signature-input'] = input
    h.signature = signature
  }
}

/** Parses existing lines (failure: a signing error, E17), drops `pipelock*` members, appends ours. */
function mergeMember(lines: string[], member: SfDictionary[number][1]): string {
  const d = lines.length === 0 ? [] : parseDictionary(lines)
  const kept = d.filter(([k]) => !k.startsWith('pipelock'))
  kept.push([SIGNATURE_LABEL, member])
  return serializeDictionary(kept)
}

/** Removes the four envelope headers (spec §4.6: never send a half-signed request). */
export function removeEnvelopeHeaders(h: HeaderRecord): void {
  for (const k of ENVELOPE_HEADERS) delete h[k]
}
