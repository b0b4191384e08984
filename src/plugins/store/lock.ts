import {closeSync, constants, openSync, unlinkSync, writeSync} from 'node:fs'
import {PipelockError} from '../errors/index.js'
import {readSmall} from './fs-io.js'

// The store lock (§5.3). Node has no flock(2), so the lock is an O_EXCL-created `.lock` file
// holding the owner's pid: exactly one process can create it, and it exists only while held.
// A lock whose owner process is gone (crash) is broken; a live owner is waited for.

const WAIT_STEP_MS = 20
const DEFAULT_TIMEOUT_MS = 30_000

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

function ownerAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export interface LockOptions {
  timeoutMs?: number
}

/** Runs `fn` while holding the exclusive store lock at `lockFile`. */
export function withStoreLock<T>(lockFile: string, fn: () => T, options: LockOptions = {}): T {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let waited = 0
  let fd: number | undefined
  while (fd === undefined) {
    try {
      fd = openSync(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PipelockError('STORE_INVALID', `contract store: lock ${lockFile}: ${(e as Error).message}`)
      }
      const owner = Number.parseInt(readSmall(lockFile) ?? '', 10)
      if (!Number.isNaN(owner) && !ownerAlive(owner)) {
        // Stale lock of a crashed process: remove it and retry at once.
        try {
          unlinkSync(lockFile)
        } catch {
          // another waiter removed it first
        }
        continue
      }
      if (waited >= timeout) {
        throw new PipelockError('STORE_LOCKED', `contract store: lock ${lockFile} is held by pid ${Number.isNaN(owner) ? '?' : owner}; gave up after ${timeout} ms`, {
          hint: `if no pipelock process is using the store, remove ${lockFile}`,
        })
      }
      sleepSync(WAIT_STEP_MS)
      waited += WAIT_STEP_MS
    }
  }
  try {
    writeSync(fd, String(process.pid))
    closeSync(fd)
    return fn()
  } finally {
    try {
      unlinkSync(lockFile)
    } catch {
      // already removed
    }
  }
}
