// Layer 2: the flight recorder (hash-chained JSONL evidence files) and the signed receipt
// emitter that `pipelock run` feeds with every decision.
export {FlightRecorder} from './flight-recorder.js'
export {EvidenceEmitter, proxyDecisionFields} from './evidence-emitter.js'
export type {EvidenceEmitterOptions, ProxyDecisionFields} from './evidence-emitter.js'
export type {FlightRecorderOptions, ResumeInfo, AppendedEntry} from './flight-recorder.js'
export {ReceiptEmitter, findResumePoint} from './receipt-emitter.js'
export type {DecisionReceiptFields, ReceiptEmitterOptions, ResumeState} from './receipt-emitter.js'
export {classifyHttpMethod, classifyMcp} from './classify.js'
export type {ActionClass} from './classify.js'
export {scanRecorderTails} from './tail-scan.js'
export type {RecorderTails} from './tail-scan.js'
export {expireRecorderFiles} from './retention.js'
export type {RetentionOptions, RetentionResult} from './retention.js'
