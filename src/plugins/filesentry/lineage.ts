/**
 * Process-lineage attribution on Linux (containment.md §3.4): the descendants of the wrapped
 * process (`/proc/<pid>/task/<tid>/children`, recursively), and whether one of them (or the root)
 * has a given path open (`/proc/<pid>/fd/*` link targets, exact string equality). Best effort: a
 * process that already closed the file, or that was re-parented away from the tree (a daemonised
 * grandchild whose parent exited), is not seen. Off Linux every answer is "no".
 */
import {readdir, readFile, readlink} from 'node:fs/promises'

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
