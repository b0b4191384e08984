import {fstatSync, ftruncateSync, writeSync} from 'node:fs'

/**
 * Bytes of a line cut short at the end of a file that are still to be removed: a file whose last
 * write failed part-way and whose cut failed too. One per open file, kept by its writer.
 */
export interface TornTail {
  bytes: number
}

/**
 * Appends `text` to the append-mode descriptor `fd` whole, or leaves none of it. A disk that
 * fills mid-write (ENOSPC, EFBIG) takes part of a line and refuses the rest; left in place, that
 * fragment would join the next line and make every later entry of the JSONL file unreadable. So
 * the part written is cut back off the file before the error is thrown, and when the cut itself
 * fails it is made before the next append to the same file (`torn`).
 */
export function appendWhole(fd: number, text: string | Uint8Array, torn: TornTail): void {
  if (torn.bytes > 0) {
    ftruncateSync(fd, fstatSync(fd).size - torn.bytes)
    torn.bytes = 0
  }
  let done = 0
  try {
    if (typeof text === 'string') {
      // One native UTF-8 write in the common case; a short one continues from its bytes.
      done = writeSync(fd, text)
      const total = Buffer.byteLength(text)
      if (done < total) {
        const bytes = Buffer.from(text)
        while (done < total) done += writeSync(fd, bytes, done, total - done)
      }
    } else {
      while (done < text.length) done += writeSync(fd, text, done, text.length - done)
    }
  } catch (e) {
    if (done > 0) {
      try {
        ftruncateSync(fd, fstatSync(fd).size - done)
      } catch {
        torn.bytes = done
      }
    }
    throw e
  }
}
