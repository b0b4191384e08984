// Layer 2: learn compile (ingest → aggregate → infer → emit) and the review (learn-compile §3–§15).
export {Aggregator} from './aggregate.js'
export type {AggregateResult, AggregateSettings, HostTail, RuleAggregate, SampleCounts} from './aggregate.js'
export {
  compileContract,
  DEFAULT_CARDINALITY_CAP,
  DEFAULT_TAIL_PROMOTION_BLOCK_PCT,
  DEFAULT_WINDOW_SECONDS,
  INFERENCE_ALGORITHM,
  observationWindowRoot,
  resolveNormalization,
} from './compile.js'
export type {CompileConfig, CompileOptions, CompileResult, CompileSigner, CompileStats, InputRefOverride} from './compile.js'
export {DETERMINISTIC_CLOCK, parseCompileFixture} from './fixture.js'
export type {BuildProvenance, CompileFixture} from './fixture.js'
export {budgetStats, classify, DEFAULT_FLOORS, resolveFloors, WILSON_Z, wilsonLower} from './inference.js'
export type {BudgetStats, Confidence, Floors} from './inference.js'
export {jsonIndentNoHtml, sortedTree} from './json-out.js'
export {
  capPerHost,
  COLLAPSED_SEGMENT,
  DEFAULT_NORMALIZATION,
  entropyBits,
  normalizeHostPaths,
  NORMALIZATION_ALGORITHM,
  TAIL_PATTERN,
} from './normalize.js'
export type {HostCap, NormalizationSettings, NormalizedPaths, PathNormalization} from './normalize.js'
export {renderReview, reviewInputFromCandidate, reviewInputFromCompile, reviewRulesFromBody} from './review.js'
export type {ReviewInput, ReviewRule, ReviewTail} from './review.js'
export {buildRule, displayName, ruleId} from './rules.js'
export {describeBuild, provenanceOf} from './build-info.js'
export type {BuildInfo} from './build-info.js'
export {
  compileAuditLine,
  DETERMINISTIC_SIGNER_KEY_ID,
  DETERMINISTIC_SIGNER_PHRASE,
  runFixtureCompile,
  runLearnCompile,
  writeOutputs,
} from './compile-service.js'
export type {CompileSummary, FixtureCompileRequest, LearnCompileRequest} from './compile-service.js'
export {learnConfigHash, loadLearnBlock, parseLearnBlock} from './learn-config.js'
export type {LearnBlock} from './learn-config.js'
export {reviewHtml, runLearnReview} from './review-service.js'
export type {ReviewFormat, ReviewRequest, ReviewResult} from './review-service.js'
export {checkCandidateOut, checkOutputPath, decodeCandidate, loadCandidate, readCandidateText} from './candidate-file.js'
export {appendReceiptLines, stagedCommit} from './candidate-commit.js'
export {auditLine, DETERMINISTIC_KEYS, deterministicKey, LIFECYCLE_DETERMINISTIC_CLOCK, lifecycleEnv} from './candidate-env.js'
export type {AuditKey, LifecycleEnv} from './candidate-env.js'
export {remapRuleDataClasses, resignContract} from './candidate-sign.js'
export type {ContractSigner, SignedCandidate} from './candidate-sign.js'
export {DETERMINISTIC_COMPILE_KEY_ID, DETERMINISTIC_COMPILE_PHRASES, verifyCandidate} from './candidate-verify.js'
export type {CandidateTrust} from './candidate-verify.js'
export {applyDecisions, isLowConfidence, lowConfidenceGuard, parseDecision, renderValue, ruleAllows, ruleEvidenceBlock} from './ratify.js'
export type {AppliedDecisions, RatifyDecision} from './ratify.js'
export {checkDecidedRules, parseDecideFlags} from './ratify-decide.js'
export {keystoreSigner, nowRfc3339, runLearnRatify} from './ratify-service.js'
export type {RatifyPrompt, RatifyRequest, RatifyResult, RatifyStep} from './ratify-service.js'
export {inquirerPrompt, lineReaderPrompt} from './ratify-prompt.js'
export {aggregateDeltas, analyzeShadow, exemplarId, isBlockAction, ruleStatsAndQuarantines, SHADOW_CHANGES_LIMIT, SHADOW_DEFAULTS} from './shadow-analyze.js'
export type {QuarantineEvent, ReplayedRecord, RuleStats, ShadowAnalysis, ShadowBatch, ShadowChange, ShadowDelta} from './shadow-analyze.js'
export {renderShadowJson, renderShadowMarkdown, shadowReportTree} from './shadow-report.js'
export {captureGrade, judgeEvent, replayEvent, unreplayableScan} from './shadow-replay.js'
export type {CapturedEvent, KeptScan} from './shadow-replay.js'
export {createPayloadReplay, createScannerReplay, createToolPolicyReplay, SCAN_WORKER_AFTER, ScanMemo} from './shadow-scanner.js'
export type {PayloadReplay, ScannerReplay, ScannerReplayOptions, ScannerReplayResult, ToolPolicyCheck, ToolPolicyReplay} from './shadow-scanner.js'
export {capturedEvent, writerCapturedEvent, loadShadowCandidate, loadShadowContract, openCaptureSidecar, prepareShadowContract, reportContractHash, resolveShadowInputs, loadsContractHere, runLearnShadow, shadowReplay, SHADOW_THREAD_LOAD_MIN_BYTES} from './shadow-service.js'
export type {ShadowContract, ShadowReplayOptions, ShadowRequest, ShadowResult} from './shadow-service.js'
export {loadShadowCandidateInWorker} from './shadow-contract-thread.js'
export {runLearnForget} from './forget-service.js'
export type {ForgetRequest, ForgetResult, ForgetStep} from './forget-service.js'
export {findRule, openEditable, pinRule, segmentLiteralProblem, splitRule, validateRuleLiterals} from './split-edit.js'
export type {CandidateLayout, EditableCandidate} from './split-edit.js'
export {editCandidateRule, runLearnSplit, splitMessage, splitWarnings} from './split-service.js'
export type {CandidateEditRequest, CandidateEditResult, SplitRequest, SplitResult} from './split-service.js'
export type {StreamStep} from './candidate-stream.js'
export {pinMessage, pinWarnings, runLearnPin} from './pin-service.js'
export type {PinRequest, PinResult} from './pin-service.js'
export {decodeShadowReport, diffReports, renderDiffMarkdown, runLearnDiff} from './diff-service.js'
export type {DiffResult, DiffRow, ShadowReportSummary} from './diff-service.js'
export {findOpportunityMissing, observeOpportunity, OPPORTUNITY_WINDOW_NS, opportunityRule, opportunityRules, opportunityTable, opportunityTableRules} from './shadow-opportunity.js'
export type {OpportunityFinding, OpportunityObservation, OpportunityRule, OpportunityTable} from './shadow-opportunity.js'
