// Layer 4: verification of whole evidence sets (flight-recorder files and directories, v1 and
// v2 chains, checkpoints, transcript roots), transcript roots, audit packets and reports.
export {KeyRing} from './key-ring.js'
export type {KeyRingRequest} from './key-ring.js'
export {verifyEvidenceSet} from './evidence-set.js'
export type {EvidenceSetRequest} from './evidence-set.js'
export {verifyEvidenceInput, resolveEvidenceSource} from './verify-service.js'
export type {VerifyEvidenceRequest, VerifyEvidenceReport, EvidenceSource, EvidenceEndorsementFailure} from './verify-service.js'
export type * from './evidence-types.js'
