import {readFileSync} from 'node:fs'

// Who holds a lock file. Node has no flock(2), so pipelock's locks are O_EXCL-created files
// naming their owner, broken when the owner is gone. A pid alone does not name a process: pids
// are reused, and in a container they repeat on every start (a proxy that ran as pid 1, or pid 7
// under an init, gets the same pid next time, and its own pid is always alive), so a lock left
// by a process killed hard would keep the next start out for good. The owner text is therefore
// `{"pid":…,"start":"…","boot":"…"}` (one JSON line, like the files beside it, so a tool that
// reads every file of a recorder directory as JSON lines reads this one too): the start time in
// clock ticks since boot (field 22 of /proc/<pid>/stat) and the kernel's boot id. An owner is live only while a process with that pid,
// started at that time in that boot, runs; this process's own pid is live only for the lock
// files it took itself (`markHeld`). Where /proc is not there (macOS) the text is the pid alone,
// and liveness is the pid's.

/** Lock files this process holds now. */
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
    const t = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] // field 22 of the line
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

/** What a lock taken by this process holds: its pid, start ticks and boot id (the pid alone without /proc). */
export function lockOwnerText(): string {
  const start = startTicks('self')
  const boot = bootId()
  return JSON.stringify(start !== undefined && boot !== undefined ? {pid: process.pid, start, boot} : {pid: process.pid})
}

interface Owner {
  readonly pid: number
  readonly start?: string
  readonly boot?: string
}

/** A lock's owner text read: the JSON object, or a bare pid (a lock written by an earlier version). */
function parseOwner(text: string): Owner | undefined {
  const t = text.trim()
  let o: {pid?: unknown; start?: unknown; boot?: unknown}
  try {
    o = t.startsWith('{') ? (JSON.parse(t) as typeof o) : {pid: Number(t)}
  } catch {
    return undefined
  }
  const pid = o.pid
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined
  return {pid, ...(typeof o.start === 'string' ? {start: o.start} : {}), ...(typeof o.boot === 'string' ? {boot: o.boot} : {})}
}

/** The pid a lock's owner text names, whether or not it lives; undefined when there is none. */
export function lockOwnerPid(text: string): number | undefined {
  return parseOwner(text)?.pid
}

/** The pid of `file`'s owner when that process still holds it; undefined for a stale or unreadable owner text. */
export function liveLockOwner(file: string, text: string): number | undefined {
  const owner = parseOwner(text)
  if (owner === undefined) return undefined
  const {pid, start, boot} = owner
  if (pid === process.pid) return heldHere.has(file) ? pid : undefined
  if (!alive(pid)) return undefined
  if (boot !== undefined) {
    const now = bootId()
    if (now !== undefined && now !== boot) return undefined // written before the machine restarted
  }
  if (start !== undefined) {
    const now = startTicks(pid)
    if (now !== undefined && now !== start) return undefined // the pid now names another process
  }
  return pid
}

/** Records that this process took `file` (its own pid in it is then a live owner). */
export function markHeld(file: string): void {
  heldHere.add(file)
}

/** Records that this process let `file` go. */
export function unmarkHeld(file: string): void {
  heldHere.delete(file)
}
