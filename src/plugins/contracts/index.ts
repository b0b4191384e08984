// Layer 1: contract and compile-manifest schemas, strict loading, hashing and signatures.
export {
  CAPTURE_GRADES,
  COMPILE_INFO,
  COMPILE_MANIFEST_BODY,
  COMPILE_MANIFEST_ENVELOPE,
  CONTRACT_BODY,
  CONTRACT_DEFAULTS,
  CONTRACT_ENVELOPE,
  CONTRACT_KEY_PURPOSE,
  CONTRACT_KIND,
  CONTRACT_RULE,
  CONTRACT_SELECTOR,
  DATA_CLASS_VALUES,
  ENFORCEABLE_RULE_KINDS,
  INPUT_REF,
  LIFECYCLE_STATES,
  OBSERVATION_WINDOW,
  PRIVACY_DEFAULTS,
} from './schema.js'
export {
  contractHash,
  contractProblem,
  decodeEnvelope,
  loadContract,
  projectContractBody,
  projectContractRule,
  signCanonical,
  UNKNOWN_FIELD_MESSAGE,
  verifyCanonicalSignature,
  verifySignatureOver,
} from './contract.js'
export {RuleByRuleChecks, streamContractEnvelope, streamContractEnvelopeFd, streamContractEnvelopeVerifyingFd, readEnvelopeTail} from './contract-stream.js'
export type {StreamOptions} from './contract-stream.js'
export {RESERVED_SEGMENTS} from './reserved-segments.js'
export type {EnvelopeTail, StreamedBody, StreamedEnvelope, VerifiedStream} from './contract-stream.js'
export type {SignedEnvelope} from './contract.js'
export {buildInfoUnavailableDigests, loadCompileManifest, manifestProblem, moduleDigestRoot, settingsProblem} from './manifest.js'
export {
  ACTIVE_MANIFEST_BODY,
  ACTIVE_MANIFEST_ENVELOPE,
  GENESIS_MANIFEST_HASH,
  HISTORY_ROOT_ZERO,
  MANIFEST_ENVIRONMENT,
  MANIFEST_KIND,
  MANIFEST_SELECTOR,
  MANIFEST_SIGNATURE,
  activeManifestHash,
  activeManifestProblem,
  manifestEnvironment,
  manifestGeneration,
  manifestSelector,
  manifestSelectorId,
  manifestSelectors,
  projectActiveManifest,
  selectorInputOf,
  selectorLabel,
  selectorSetHash,
} from './manifest-active.js'
export type {ActiveManifestEnvelope, ManifestEnvironment, SelectorInput} from './manifest-active.js'
export {
  TOMBSTONE_BODY,
  TOMBSTONE_ENVELOPE,
  TOMBSTONE_KEY_PURPOSE,
  projectTombstone,
  signTombstone,
  tombstoneBody,
  tombstoneHash,
  tombstoneProblem,
} from './tombstone.js'
export type {TombstoneEnvelope, TombstoneFields} from './tombstone.js'
export {
  BUNDLE_KIND,
  VERIFICATION_METADATA_BODY,
  VERIFICATION_METADATA_ENVELOPE,
  projectVerificationMetadata,
  tombstoneIndexRoot,
  verificationMetadataProblem,
} from './verification-metadata.js'
