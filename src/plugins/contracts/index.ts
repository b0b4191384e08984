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
  signCanonical,
  UNKNOWN_FIELD_MESSAGE,
  verifyCanonicalSignature,
} from './contract.js'
export type {SignedEnvelope} from './contract.js'
export {buildInfoUnavailableDigests, loadCompileManifest, manifestProblem, moduleDigestRoot, settingsProblem} from './manifest.js'
