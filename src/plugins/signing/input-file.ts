import {statSync, type Stats} from 'node:fs'
import {PipelockError} from '../errors/index.js'

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a file'
}

/**
 * Refuses an input the user named that exists but is neither a regular file nor a directory.
 * Opening a FIFO blocks until something writes to it, and a device may never end, so the
 * command would hang instead of failing; hence a stat, never an open. A missing file, a
 * directory or an unreadable path is left to the read that follows, which says so in its own
 * words. Symlinks are followed: a link to a regular file is a regular file.
 */
export function refuseSpecialFile(file: string, what: string): void {
  let st: Stats
  try {
    st = statSync(file)
  } catch {
    return
  }
  if (st.isFile() || st.isDirectory()) return
  throw new PipelockError('PATH_UNSAFE', `${what} ${file} is not a regular file (it is ${kindOf(st)})`, {hint: 'name a regular file; a FIFO, socket or device is never read'})
}
