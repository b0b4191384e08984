import {closeSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'

// One chain, one writer: a second process that resumed the same recorder session would continue
// the chain from the tail it read and fork it (the verifier then reports a seq gap). A lock file
// holding the writer's pid keeps the second one out; a lock left by a process that no longer
// exists (kill -9, power loss) is taken over, so a crash never blocks the next start.

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockFile(dir: string, sessionId: string): string {
  return path.join(dir, `.${sessionId}.writer.lock`)
}

/**
 * The pid of the live process writing `dir`'s session (`pipelock check` tells a running proxy
 * from a leftover state this way); undefined when no lock is held or its process is gone.
 */
export function writerLockHolder(dir: string, sessionId: string): number | undefined {
  let holder: number
  try {
    holder = Number(readFileSync(lockFile(dir, sessionId), 'utf8').trim())
  } catch {
    return undefined
  }
  return Number.isInteger(holder) && holder > 0 && alive(holder) ? holder : undefined
}

/** Takes `<dir>/.<session>.writer.lock`; returns the release function. Throws RECORDER_LOCKED. */
export function acquireWriterLock(dir: string, sessionId: string): () => void {
  const file = lockFile(dir, sessionId)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      return () => rmSync(file, {force: true})
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PipelockError('WRITE_FAILED', `flight recorder: cannot create ${file}: ${(e as Error).message}`)
    }
    let holder = Number.NaN
    try {
      holder = Number(readFileSync(file, 'utf8').trim())
    } catch {
      // vanished between open and read: try again
    }
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) {
      throw new PipelockError('RECORDER_LOCKED', `flight recorder: ${dir} is being written by process ${holder} (session ${sessionId}); one chain has one writer`, {
        hint: 'give each pipelock process its own flight_recorder.dir',
      })
    }
    rmSync(file, {force: true}) // a stale lock: its process is gone
  }
  throw new PipelockError('RECORDER_LOCKED', `flight recorder: could not take the writer lock ${file}`)
}
