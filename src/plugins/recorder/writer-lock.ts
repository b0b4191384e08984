import {closeSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {liveLockOwner, lockOwnerText, markHeld, unmarkHeld} from '../signing/index.js'

// One chain, one writer: a second process that resumed the same recorder session would continue
// the chain from the tail it read and fork it (the verifier then reports a seq gap). A lock file
// naming the writer (signing/lock-owner.ts: pid, start time, boot id) keeps the second one out; a
// lock left by a process that no longer exists (kill -9, OOM, power loss, a container stopped
// hard whose next start reuses the pid) is taken over, so a crash never blocks the next start.

function lockFile(dir: string, sessionId: string): string {
  return path.join(dir, `.${sessionId}.writer.lock`)
}

/**
 * The pid of the live process writing `dir`'s session (`pipelock check` tells a running proxy
 * from a leftover state this way); undefined when no lock is held or its process is gone.
 */
export function writerLockHolder(dir: string, sessionId: string): number | undefined {
  const file = lockFile(dir, sessionId)
  try {
    return liveLockOwner(file, readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** Takes `<dir>/.<session>.writer.lock`; returns the release function. Throws RECORDER_LOCKED. */
export function acquireWriterLock(dir: string, sessionId: string): () => void {
  const file = lockFile(dir, sessionId)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, `${lockOwnerText()}\n`)
      closeSync(fd)
      markHeld(file)
      return () => {
        unmarkHeld(file)
        rmSync(file, {force: true})
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PipelockError('WRITE_FAILED', `flight recorder: cannot create ${file}: ${(e as Error).message}`)
    }
    let holder: number | undefined
    try {
      holder = liveLockOwner(file, readFileSync(file, 'utf8'))
    } catch {
      continue // vanished between open and read: try again
    }
    if (holder !== undefined) {
      throw new PipelockError('RECORDER_LOCKED', `flight recorder: ${dir} is being written by process ${holder} (session ${sessionId}); one chain has one writer`, {
        hint: 'give each pipelock process its own flight_recorder.dir',
      })
    }
    rmSync(file, {force: true}) // a stale lock: its process is gone, or its pid now names another process
  }
  throw new PipelockError('RECORDER_LOCKED', `flight recorder: could not take the writer lock ${file}`)
}
