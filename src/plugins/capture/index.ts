// Layer 1: the capture record format learn observe writes and learn compile reads (learn-compile §2).
export {decodeEntry, detailJsonOf, entryHash, EntryDecodeError, GENESIS} from './entry.js'
export type {HashFields, RecorderEntry} from './entry.js'
export {decodeWriterCapture} from './writer-line.js'
export type {WriterCapture} from './writer-line.js'
export {ChainVerifier, cutLineText, MAX_LINE_BYTES, progressOverFiles, readCaptureInputs} from './reader.js'
export type {CaptureFileRef, CaptureInput, CutLine, EntrySource, ReadOptions} from './reader.js'
export {
  ACTION_CLASSES,
  canonicalActionClass,
  cutSample,
  decodeSummary,
  summaryJson,
  summaryTree,
  SummaryDecodeError,
} from './summary.js'
export type {CaptureFinding, CaptureRequest, CaptureSummary, DecodedSummary} from './summary.js'
export {isSafeSessionId, mcpSessionId, MAX_SESSION_KEY_LEN, proxySessionId} from './session-id.js'
export type {SanitizedSessionId} from './session-id.js'
export {CAPTURE_META_SESSION, CHECKPOINT_EVERY, LINES_PER_FILE, openCaptureWriter} from './writer.js'
export type {CaptureRecordInput, CaptureWriter, CaptureWriterOptions} from './writer.js'
export {capturedAgentsHint, compareCaptureFiles, discoverCaptureFiles, discoverCaptureInputs, globFiles, sessionDirVerdict, skippedText, unreadableCaptureError} from './discovery.js'
export type {SkippedCapture} from './discovery.js'
export type {DiscoverOptions} from './discovery.js'
export {resolveSalt, saltedHmac} from './privacy.js'
export {argsShape, REDACTED_ARGS} from './args-shape.js'
export type {ArgsShapeOptions} from './args-shape.js'
export {checkCaptureDir, prepareCaptureDir} from './capture-dir.js'
export {isRedactedCaptureUrl, REDACTED_PATH, redactionLabel} from './url-redaction.js'
