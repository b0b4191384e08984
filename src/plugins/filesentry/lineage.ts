/**
 * Process-lineage attribution on Linux (containment.md §3.4): the descendants of the wrapped
 * process (`/proc/<pid>/task/<tid>/children`, recursively), and whether one of them (or the root)
 * has a given path open (`/proc/<pid>/fd/*` link targets, exact string equality). Best effort: a
 * process that already closed the file is not seen. A daemonised grandchild whose parent exited
 * stays in the tree because the wrapped process is a child subreaper (subreaper.ts), or, in the
 * sandbox, because bubblewrap's PID-namespace init adopts it. Off Linux every answer is "no".
 */
import {readdir, readFile, readlink} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

const MAX_DEPTH = 256

export async function descendants(root: number): Promise<number[]> {
  const out: number[] = []
  const seen = new Set<number>()
  const walk = async (pid: number, depth: number): Promise<void> => {
    if (seen.has(pid) || depth > MAX_DEPTH) return
    seen.add(pid)
    out.push(pid)
    let tids: string[]
    try {
      tids = await readdir(`/proc/${pid}/task`)
    } catch {
      return
    }
    for (const tid of tids) {
      let kids = ''
      try {
        kids = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8')
      } catch {
        continue
      }
      for (const k of kids.split(' ')) if (k.trim() !== '') await walk(Number(k), depth + 1)
    }
  }
  await walk(root, 0)
  return out
}

/** Whether the root or a descendant holds `absPath` open right now. */
export async function treeHasOpen(root: number, absPath: string): Promise<boolean> {
  for (const pid of await descendants(root)) {
    let fds: string[]
    try {
      fds = await readdir(`/proc/${pid}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        if ((await readlink(`/proc/${pid}/fd/${fd}`)) === absPath) return true
      } catch {
        // closed meanwhile
      }
    }
  }
  return false
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/**
 * Ends the root and every descendant, a `setsid` daemon included (a process-group kill misses
 * it). Each round stops what it finds, so nothing forks while the tree is being listed; once a
 * round finds nothing new, everything stopped is killed.
 */
export async function killTree(root: number): Promise<void> {
  const stopped = new Set<number>()
  for (let round = 0; round < 16; round++) {
    const fresh = (await descendants(root)).filter((p) => !stopped.has(p))
    if (fresh.length === 0 && round > 0) break
    for (const p of fresh) {
      signal(p, 'SIGSTOP')
      stopped.add(p)
    }
    // A fork already in flight when its parent was stopped shows up on the next listing.
    await sleep(5)
  }
  for (const p of stopped) signal(p, 'SIGKILL')
  signal(root, 'SIGKILL')
}
