// Layer 1: the mediation envelope — Pipelock-Mediation header, RFC 8941 subset, RFC 9421
// Ed25519 signing and verification, SPIFFE actors, replay cache, inbound strip, key directory.
export {
  SIGNATURE_LABEL, SIGNATURE_TAG, SIGNATURE_ALG, DEFAULT_KEY_ID, DEFAULT_COMPONENTS, SUPPORTED_COMPONENTS, DIRECTORY_PATH,
  DEFAULT_SKEW_SECONDS, DEFAULT_MAX_BODY_BYTES, DEFAULT_WINDOW_SECONDS, DEFAULT_REPLAY_ENTRIES, DEFAULT_TRUST_DOMAIN,
} from './constants.js'
export {parseDictionary, serializeDictionary, serializeInnerList, SfError} from './sfv.js'
export type {SfDictionary, SfInnerList, SfItem, SfMember, BareItem} from './sfv.js'
export {MEDIATION_HEADER, serializeEnvelope, parseEnvelope, actionForMethod, policyHashBytes} from './mediation.js'
export type {Envelope} from './mediation.js'
export {formatActor, parseActor, isTrustDomain, ActorError} from './spiffe.js'
export type {ActorFormat, ParsedActor} from './spiffe.js'
export {signatureBase, contentDigest} from './signature-base.js'
export {EnvelopeSigner, removeEnvelopeHeaders, ENVELOPE_HEADERS} from './signer.js'
export type {SignerOptions, OutboundRequest} from './signer.js'
export {EnvelopeVerifier} from './verifier.js'
export type {TrustedKey, VerifierOptions, InboundRequest, VerifyResult, VerifyCode} from './verifier.js'
export {ReplayCache} from './replay-cache.js'
export {stripSignatureHeader} from './strip.js'
export {directoryBody, directoryKey} from './directory.js'
export {headerLines} from './headers.js'
export type {HeaderRecord} from './headers.js'
export {defaultStorePath, storeLocation, loadStore, saveStore, updateStore, parseTarget, addRecord, renderTrustList, rfc3339Now, checkKeySource} from './trust-store.js'
export type {TrustRecord} from './trust-store.js'
export {parseHttpRequest, verifyWithStore} from './trust-verify.js'
export type {TrustVerifyResult, ParsedRequest} from './trust-verify.js'
export {fetchDirectoryKey} from './trust-source.js'
export {MCP_MEDIATION_META, mcpMediationMeta, mcpEnvelope} from './mcp-meta.js'
export type {McpMediationMeta, McpEnvelopeInput} from './mcp-meta.js'
