import {statSync} from 'node:fs'
import {posix} from 'node:path'

// Where the audit log's file (`logging.file`) can be written: `pipelock check` and `pipelock run`
// judge it alike. Run creates a missing directory for it, as the recorder does its own; nothing
// can be created under a path that is a file.

/** The mode of the directories run creates for `logging.file` (the flight recorder's). */
export const LOG_DIR_MODE = 0o750

/**
 * Where `file`'s directory stands: `missing` when it does not exist yet and the nearest existing
 * path above it is a directory (run creates the rest), `blockedBy` that nearest existing path
 * when it is not a directory (nothing can be created under it). Neither when the directory
 * exists, or when a path on the way up cannot be looked at (the open then names why).
 */
export function logDirectoryState(file: string): {missing?: string; blockedBy?: string} {
  const dir = posix.dirname(file)
  for (let cur = dir; ; cur = posix.dirname(cur)) {
    let st
    try {
      st = statSync(cur)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      // missing, or under a file: the nearest path that exists decides
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || posix.dirname(cur) === cur) return {}
      continue
    }
    if (!st.isDirectory()) return {blockedBy: cur}
    return cur === dir ? {} : {missing: dir}
  }
}
