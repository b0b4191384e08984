import {closeSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'

// One chain, one writer: a second process that resumed the same recorder session would continue
// the chain from the tail it read and fork it (the verifier then reports a seq gap). A lock file
// naming the writer keeps the second one out; a lock left by a process that no longer exists
// (kill -9, OOM, power loss, a container stopped hard) is taken over, so a crash never blocks
// the next start.
//
// A pid alone does not name a process: pids are reused, and in a container they repeat on every
// start (a proxy that ran as pid 1, or pid 7 under an init, gets the same pid next time, and its
// own pid is always alive). So the lock holds `<pid> <start time> <boot id>`: the process's start
// time in clock ticks since boot (field 22 of /proc/<pid>/stat) and the kernel's boot id. A lock
// is held only while a process with that pid, started at that time in that boot, lives; this
// process's own pid holds it only while this process took it. Where /proc is not there (macOS),
// the lock holds the pid alone and liveness is the pid's.

/** Lock files this process holds now (its own pid in a lock is live only for these). */
const heldHere = new Set<string>()

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The start time of `pid` in clock ticks since boot, from /proc; undefined where it cannot be read. */
function startTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 2 (the command) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const t = fields[19] // field 22 of the whole line
    return t !== undefined && /^\d+$/.test(t) ? t : undefined
  } catch {
    return undefined
  }
}

function bootId(): string | undefined {
  try {
    const id = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    return /^[0-9a-f-]+$/.test(id) ? id : undefined
  } catch {
    return undefined
  }
}

/** What this process writes into a lock it takes. */
function ownIdentity(): string {
  const start = startTicks('self')
  const boot = bootId()
  return start !== undefined && boot !== undefined ? `${process.pid} ${start} ${boot}` : String(process.pid)
}

/** The pid a lock's text names when that process still holds it; undefined for a stale or unreadable lock. */
function liveHolder(file: string, text: string): number | undefined {
  const [pidText, start, boot] = text.trim().split(/\s+/)
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  if (pid === process.pid) return heldHere.has(file) ? pid : undefined
  if (!alive(pid)) return undefined
  if (boot !== undefined) {
    const now = bootId()
    if (now !== undefined && now !== boot) return undefined // written before the machine restarted
  }
  if (start !== undefined) {
    const nowStart = startTicks(pid)
    if (nowStart !== undefined && nowStart !== start) return undefined // the pid now names another process
  }
  return pid
}

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
    return liveHolder(file, readFileSync(file, 'utf8'))
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
      writeSync(fd, `${ownIdentity()}\n`)
      closeSync(fd)
      heldHere.add(file)
      return () => {
        heldHere.delete(file)
        rmSync(file, {force: true})
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new PipelockError('WRITE_FAILED', `flight recorder: cannot create ${file}: ${(e as Error).message}`)
    }
    let holder: number | undefined
    try {
      holder = liveHolder(file, readFileSync(file, 'utf8'))
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
