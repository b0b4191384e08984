import {statSync} from 'node:fs'
import {osErrorReason, PipelockError} from '../plugins/errors/index.js'
import {writeFileAtomic} from '../plugins/signing/index.js'

/**
 * Writes a file a command was asked to produce (--out, --output): a temp file renamed over the
 * target, so a full disk, a file size limit or a kill leaves the previous file (or none), never
 * a torn one. A failure is one WRITE_FAILED line naming the file; a directory given where a file
 * belongs is said so. Whether an existing file may be replaced is the caller's decision.
 */
export function writeOutputFile(file: string, data: string, mode: number): void {
  if (isDirectory(file)) throw new PipelockError('WRITE_FAILED', `writing ${file}: is a directory`, {hint: 'name a file to write, not a directory'})
  try {
    writeFileAtomic(file, data, mode)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `writing ${file}: ${osErrorReason(e)}; nothing was written`)
  }
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory()
  } catch {
    return false
  }
}
