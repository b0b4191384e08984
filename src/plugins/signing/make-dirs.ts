import {mkdirSync, statSync} from 'node:fs'
import path from 'node:path'

/**
 * `mkdir -p dir` with `mode` for each directory it creates. Written out rather than Node's
 * `mkdirSync(dir, {recursive: true})`: that call spins forever at full CPU where `mkdir` answers
 * ENOENT under a parent that exists (any path under /proc), so `keygen --keystore /proc/x` hung.
 * Here the missing directories are found walking up, then made top-down one level at a time;
 * any error is the `mkdirSync`/`statSync` error of the level that failed (a directory made by
 * another process meanwhile is fine).
 */
export function makeDirs(dir: string, mode: number): void {
  const missing: string[] = []
  for (let cur = path.resolve(dir); ; ) {
    try {
      statSync(cur)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
    }
    missing.push(cur)
    const parent = path.dirname(cur)
    if (parent === cur) break
    cur = parent
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, {mode})
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
  }
}
