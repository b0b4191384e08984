// Layer 1: ActionReceipt v1 (build, sign, verify, chains, flight-recorder extraction),
// EvidenceReceipt v2, rotation endorsements, and the verify-receipt service.
export {
  parseActionReceiptText,
  parseActionReceiptTree,
  verifyActionReceipt,
  verifyReceipt,
  validateActionRecord,
  signActionReceipt,
  encodeActionReceipt,
  actionReceiptHash,
  recordString,
  recordUint,
  ReceiptParseError,
  ReceiptValidationError,
  prepareActionReceiptCheck,
  SIGNATURE_VERIFICATION_FAILED,
} from './action-receipt.js'
export type {ActionReceipt, SignatureCheck, ReceiptVerification} from './action-receipt.js'
export {ACTION_RECORD, ACTION_TYPES} from './action-record-schema.js'
export {encodeDecisionRecord, signRecordBytes} from './decision-record.js'
export type {ChainLink, DecisionRecordFields, ReceiptRedactionSummary, SignedReceiptBytes} from './decision-record.js'
export {verifyChain, verifyChainBatches, ChainVerifier, ChainPrecheck} from './chain.js'
export {AdaptiveSignatureChecks, InlineSignatureChecks, ParallelSignatureChecks} from './parallel-signatures.js'
export type {SignatureChecks, SignatureFailure} from './parallel-signatures.js'
export type {ChainItem, ChainOptions, ChainResult} from './chain.js'
export {sessionOpenGenesis} from './session-genesis.js'
export {
  parseRotationEndorsement,
  endorsementBody,
  endorsementDigest,
  endorsesBoundary,
  handOverPaths,
  encodeRotationEndorsement,
  signRotationEndorsement,
  EndorsementError,
  ENDORSEMENT_MAX_BYTES,
} from './rotation-endorsement.js'
export type {RotationEndorsement, RotationBoundary} from './rotation-endorsement.js'
export {parseRecorderEntry, recorderEntryHash, entryProjectionHash, EntryChainVerifier, EntryError} from './recorder-entry.js'
export type {RecorderEntry, EntryHashFields} from './recorder-entry.js'
export {extractChainItems, chainFilesInDir, scanChainDir, classifyLine, classifyLineInFull, classifiedLines, classifyRead, recorderFileNumber, ExtractionError, LineError} from './extract.js'
export type {ClassifiedLine, ReadLine} from './extract.js'
export {readLines, readLineBatches, readLineBatchesSync, MAX_LINE_BYTES} from './line-reader.js'
export type {Line} from './line-reader.js'
export {verifyReceiptInput, resolvePinnedKey, displayTime, evidenceFileReport, loadEndorsements, readBounded, osErrorText, MAX_RECEIPT_FILE_BYTES} from './verify-service.js'
export type {VerifyReceiptRequest, VerifyReceiptReport, SingleReceiptReport, EvidenceReport} from './verify-service.js'
export {ReceiptChainBuilder} from './chain-builder.js'
export type {RunIdentity, ControlFields, RecordFields} from './chain-builder.js'
export {RecorderEntryChain} from './recorder-writer.js'
export {appendWhole, type TornTail} from './append-whole.js'
export type {EntryInput} from './recorder-writer.js'
export {BackgroundSync} from './background-sync.js'
export * from './evidence/index.js'
export {
  RETENTION_ANCHOR,
  AnchorError,
  anchorDetailJson,
  anchorSignedBytes,
  anchorTail,
  findRetentionAnchors,
  lastEntryTs,
  parseRetentionAnchor,
  resumeAnchor,
  scanClosedFiles,
} from './retention-anchor.js'
export type {RetentionAnchor, RemovedFile, ReceiptChainCut, EvidenceChainCut, CutScan} from './retention-anchor.js'
