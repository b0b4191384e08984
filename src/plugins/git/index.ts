/** Git protection (containment.md §4): branch rules, diff and pack scanning, the pre-push hook. */
export {allowedBranches, branchGlob, branchOfRef, branchRefusal, DEFAULT_ALLOWED_BRANCHES} from './branches.js'
export {COMMIT_MESSAGE, scanCommitMessages, scanDiff, type DiffFinding} from './diff-scan.js'
export {isZeroId, parseReceivePack, type ReceivePack, type RefUpdate} from './receive-pack.js'
export {checkReceivePack, MAX_PACK_SCAN_BYTES, type PackCheck} from './pack-check.js'
export {findGitDir, prePushHook} from './hook.js'
export {MAX_DIFF_BYTES, parsePushLines, renderPushScan, scanPush, type PushRef, type PushRefResult, type PushScan} from './push.js'
