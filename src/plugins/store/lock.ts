import {PipelockError, shellWord} from '../errors/index.js'
import {withFileLock} from '../signing/index.js'

// The store lock (§5.3): the shared pid lock file (signing/file-lock.ts) with the store's codes.

export interface LockOptions {
  timeoutMs?: number
}

/** Runs `fn` while holding the exclusive store lock at `lockFile`. */
export function withStoreLock<T>(lockFile: string, fn: () => T, options: LockOptions = {}): T {
  return withFileLock(lockFile, fn, {
    ...(options.timeoutMs === undefined ? {} : {timeoutMs: options.timeoutMs}),
    busy: (owner, timeout) =>
      new PipelockError('STORE_LOCKED', `contract store: lock ${lockFile} is held by pid ${owner ?? '?'}; gave up after ${timeout} ms`, {
        hint: `if no pipelock process is using the store, remove ${shellWord(lockFile)}`,
      }),
    failed: (e) => new PipelockError('STORE_INVALID', `contract store: lock ${lockFile}: ${e.message}`),
  })
}
