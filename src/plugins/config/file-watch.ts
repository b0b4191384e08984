import {watch, type FSWatcher} from 'node:fs'
import path from 'node:path'

/** A watch on one file; `close()` stops it. */
export interface FileWatch {
  close(): void
}

/**
 * Calls `onEvent` on every filesystem event for one file, following the file across
 * editor-style saves. Only the file's own inode is watched while it exists, so churn in sibling
 * files (an audit log beside the config) costs nothing: no directory listing, no stat.
 *
 * - A write in place: the inode reports `change`.
 * - A temp file renamed over it, or a delete: the old inode reports `rename`; the watch is
 *   re-armed on whatever now sits at the path.
 * - The path is missing: the directory is watched (event names only, no stat) until the file's
 *   name appears, then the file is watched again.
 *
 * Events are not throttled or deduplicated here; the caller debounces. (chokidar, used before,
 * throttles `change` to one per 50 ms and races when a watched file is deleted and re-created,
 * so a quick second save could be lost.)
 */
export function watchFile(file: string, onEvent: () => void, onError: (err: Error) => void): FileWatch {
  const dir = path.dirname(file)
  const base = path.basename(file)
  let current: FSWatcher | undefined
  let closed = false

  const disarm = (): void => {
    const w = current
    current = undefined
    w?.close()
  }

  const armDirectory = (): void => {
    let w: FSWatcher
    try {
      w = watch(dir, (_event, name) => {
        if (name !== null && name.toString() === base && armFile()) onEvent()
      })
    } catch (err) {
      onError(err as Error)
      return
    }
    w.on('error', (err) => onError(err))
    current = w
  }

  /** Watches the file's current inode; false when the path does not exist (the directory is watched instead). */
  const armFile = (): boolean => {
    if (closed) return false
    disarm()
    let w: FSWatcher
    try {
      w = watch(file, (event) => {
        onEvent()
        // The inode at the path changed (rename over it) or went away: follow the path.
        if (event === 'rename') armFile()
      })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onError(err as Error)
      armDirectory()
      return false
    }
    w.on('error', (err) => onError(err))
    current = w
    return true
  }

  armFile()
  return {
    close: () => {
      closed = true
      disarm()
    },
  }
}
