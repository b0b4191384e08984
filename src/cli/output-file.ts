import {osErrorReason, PipelockError} from '../plugins/errors/index.js'
import {createFileAtomic, isDirectory, writeFileAtomic} from '../plugins/signing/index.js'

/**
 * Writes a file a command was asked to produce (--out, --output): a temp file renamed over the
 * target, so a full disk, a file size limit or a kill leaves the previous file (or none), never
 * a torn one. A failure is one WRITE_FAILED line naming the file; a directory given where a file
 * belongs is said so. Whether an existing file may be replaced is the caller's decision: with
 * `exists`, the file is created only if there is none (linked into place, so not even a file that
 * appeared after the caller looked is replaced) and `exists()` is the error when there is one.
 */
export function writeOutputFile(file: string, data: string, mode: number, exists?: () => PipelockError): void {
  refuseDirectoryOutput(file)
  try {
    if (exists === undefined) writeFileAtomic(file, data, mode)
    else createFileAtomic(file, data, mode)
  } catch (e) {
    if (exists !== undefined && (e as NodeJS.ErrnoException).code === 'EEXIST') throw exists()
    throw new PipelockError('WRITE_FAILED', `writing ${file}: ${osErrorReason(e)}; nothing was written`)
  }
}

/** An output named where a directory is: one WRITE_FAILED line that says so (checked before any "exists" refusal). */
export function refuseDirectoryOutput(file: string): void {
  if (isDirectory(file)) throw new PipelockError('WRITE_FAILED', `writing ${file}: is a directory`, {hint: 'name a file to write, not a directory'})
}
