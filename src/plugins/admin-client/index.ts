// Layer 3: the client side of the session admin API (runtime §12) for `pipelock session …` and
// `pipelock adaptive …` (§13): URL/token resolution, the HTTP client, typed decoding, renderers.
export {
  resolveAdminTarget,
  findConfigFile,
  assertPrivate,
  urlFromListen,
  normalizeApiUrl,
  ENV_API_URL,
  ENV_API_TOKEN,
  ENV_CONFIG,
  SYSTEM_CONFIG_PATH,
  configSearchOrder,
  type AdminTarget,
  type AdminTargetInput,
  type ValueSource,
} from './resolve-target.js'
export {AdminClient, DEFAULT_TIMEOUT_MS, type AdminClientOptions, type AdminResponse, type RequestContext} from './admin-client.js'
export * from './schemas.js'
export {AIRLOCK_TIERS, TIER_FILTERS, RELEASE_TARGETS, canonicalTier, tierRank, type AirlockTier, type TierFilter, type ReleaseTarget} from './tiers.js'
export {
  sessionPath,
  listSessions,
  inspectSession,
  explainSession,
  releaseSession,
  terminateSession,
  adaptiveStatus,
  adaptiveFlush,
  adaptiveWhoami,
} from './session-service.js'
export {recoverSession, RECOVERY_CHOICES, RECOVERY_MENU, RECOVERY_MENU_TITLE, type RecoveryChoice, type RecoverIo, type RecoverResult} from './recover.js'
export {promptRecoveryChoice} from './recover-prompt.js'
export {renderSessionList, renderSessionDetail, renderSessionExplanation, renderRelease, renderTerminate} from './render-session.js'
export {renderAdaptiveStatus, renderAdaptiveFlush, renderWhoami} from './render-adaptive.js'
export {formatScore, formatSeconds, alignColumns, alignFields, printable} from './text-format.js'
export {
  grantException, listExceptions, revokeException, sendChangeNote, requestReload, expiresSeconds, noteFileSha256,
  exceptionSchema, exceptionListSchema, exceptionRevokeSchema, changeNoteSchema, reloadSchema,
  type ExceptionInfo, type ExceptionList, type ExceptionRevoke, type ChangeNoteResult, type ReloadResult, type GrantInput, type NoteInput,
} from './policy-service.js'
export {renderGrant, renderExceptionList, renderRevoke, renderChangeNote, renderReload} from './render-policy.js'
export {
  listApprovals, showApproval, answerApproval, renderApprovalList, renderApproval, renderAnswer,
  approvalSchema, approvalListSchema, approvalAnswerSchema,
  type ApprovalInfo, type ApprovalList, type ApprovalAnswer, type AskDecision,
} from './ask-service.js'
export {promptAskDecision} from './ask-prompt.js'
