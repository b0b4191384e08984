/** File sentry (containment.md §3): watch, attribute, scan what the agent writes to disk. */
export {FileSentry, ignoreMatcher, DEBOUNCE_MS, MAX_SCAN_BYTES, type FileSentryOptions, type SentryFinding} from './sentry.js'
export {descendants, killTree, treeHasOpen} from './lineage.js'
export {resolveCommand, subreaperLaunch, type SubreaperLaunch, type SubreaperResult} from './subreaper.js'
export {fileSentryRoots, startFileSentry, type FileFindingReceipt, type RunningFileSentry, type StartFileSentryOptions} from './run.js'
export {startMetricsListener, type MetricsListener} from './metrics-listener.js'
