import {closeSync, constants, fstatSync, lstatSync, openSync, readSync, unlinkSync, writeSync} from 'node:fs'
import {PipelockError, shellWord} from '../errors/index.js'
import {liveLockOwner, lockOwnerPid, lockOwnerText, markHeld, unmarkHeld} from './lock-owner.js'

// An exclusive lock for a read-modify-write of one file. Node has no flock(2), so the lock is
// an O_EXCL-created file naming its owner (lock-owner.ts: pid, start time, boot id): exactly one
// process can create it, and it exists only while held. A lock whose owner process is gone
// (crash; a reused pid is not its owner) is broken; a live owner is waited for, up to a timeout.
//
// Breaking a lock races with its owner releasing it: a waiter reads pid A, A unlocks and exits,
// B takes a new lock, and the waiter, seeing A dead, would remove B's lock (two holders, a lost
// update; short-lived CLI processes hit this). So a lock is broken only when its file is older
// than STALE_AGE_MS and is still the very file the pid was read from (same inode and mtime):
// a lock taken since is younger, and is left alone.

const WAIT_STEP_MS = 20
const DEFAULT_TIMEOUT_MS = 30_000
const STALE_AGE_MS = 1_000

export interface FileLockOptions {
  timeoutMs?: number
  /** The error when a live owner held the lock for the whole timeout (`owner`: its pid, if readable). */
  busy: (owner: number | undefined, timeoutMs: number) => Error
  /** The error when the lock file cannot be created at all (missing directory, permissions). */
  failed: (e: Error) => Error
}

/** Runs `fn` while holding the exclusive lock `lockFile`. */
export function withFileLock<T>(lockFile: string, fn: () => T, options: FileLockOptions): T {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  let waited = 0
  let fd: number | undefined
  while (fd === undefined) {
    try {
      fd = openSync(lockFile, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw options.failed(e as Error)
      const held = readLock(lockFile)
      const owner = held?.pid
      if (held !== undefined && owner !== undefined && liveLockOwner(lockFile, held.text) === undefined && Date.now() - held.mtimeMs >= STALE_AGE_MS && sameFile(lockFile, held)) {
        // Stale lock of a crashed process: remove it and retry at once.
        try {
          unlinkSync(lockFile)
        } catch {
          // another waiter removed it first
        }
        continue
      }
      if (waited >= timeout) throw options.busy(owner, timeout)
      sleepSync(WAIT_STEP_MS)
      waited += WAIT_STEP_MS
    }
  }
  try {
    writeSync(fd, lockOwnerText())
    closeSync(fd)
    markHeld(lockFile)
    return fn()
  } finally {
    unmarkHeld(lockFile)
    try {
      unlinkSync(lockFile)
    } catch {
      // already removed
    }
  }
}

/**
 * Runs a read-modify-write of `file` under the lock `<file>.lock`, so two commands updating the
 * same file at once both land (the second reads what the first wrote) instead of the last
 * rename silently dropping the other's change.
 */
export function withFileUpdateLock<T>(file: string, fn: () => T, options: {timeoutMs?: number} = {}): T {
  const lockFile = `${file}.lock`
  return withFileLock(lockFile, fn, {
    ...(options.timeoutMs === undefined ? {} : {timeoutMs: options.timeoutMs}),
    busy: (owner, timeout) =>
      new PipelockError('FILE_LOCKED', `${file} is being updated by pid ${owner ?? '?'} (lock ${lockFile}); gave up after ${timeout} ms`, {
        // Quoted when it needs to be: the path is meant to be pasted into a shell.
        hint: `if no pipelock process is running, remove ${shellWord(lockFile)}`,
      }),
    failed: (e) => new PipelockError('WRITE_FAILED', `locking ${file}: ${(e as NodeJS.ErrnoException).code ?? e.message}`),
  })
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

interface HeldLock {
  pid: number | undefined
  /** The owner text (lock-owner.ts). */
  text: string
  ino: number
  mtimeMs: number
}

/** The lock file's owner (pid undefined while the owner has not written it yet) and identity. */
function readLock(lockFile: string): HeldLock | undefined {
  let fd: number
  try {
    fd = openSync(lockFile, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch {
    return undefined
  }
  try {
    const st = fstatSync(fd)
    const buf = Buffer.alloc(128)
    const text = buf.subarray(0, readSync(fd, buf, 0, 128, 0)).toString('utf8')
    return {pid: lockOwnerPid(text), text, ino: st.ino, mtimeMs: st.mtimeMs}
  } finally {
    closeSync(fd)
  }
}

function sameFile(lockFile: string, held: HeldLock): boolean {
  try {
    const st = lstatSync(lockFile)
    return st.ino === held.ino && st.mtimeMs === held.mtimeMs
  } catch {
    return false
  }
}

