import {closeSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeSync, fchmodSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import path from 'node:path'

/**
 * Writes `data` to `file` so that readers see the old content or the new, never a torn file:
 * a temp file in the same directory (same filesystem, so rename is atomic), fsync, rename over
 * the target, fsync the directory so the rename itself survives a crash. `mode` is applied with
 * fchmod so the process umask cannot widen or narrow it. A symlink at `file` is replaced, not
 * followed. `data` may be a producer that streams the content as UTF-8 text pieces (a contract
 * of tens of thousands of rules is written without holding its document); if it throws, the temp
 * file is removed and the target is untouched.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array | StreamedText, mode = 0o600): void {
  stageFileAtomic(file, data, mode).commit()
}

/**
 * writeFileAtomic for a file that must not be replaced: the staged file is linked to `file`
 * (which fails with EEXIST when something is there, even a file created a moment ago by another
 * process), so the target appears whole or not at all and an existing one is never touched.
 */
export function createFileAtomic(file: string, data: string | Uint8Array | StreamedText, mode = 0o600): void {
  stageFileAtomic(file, data, mode).commitNew()
}

/** A file written in full beside its target, not yet renamed over it. */
export interface StagedFile {
  /** Renames the staged file over the target (then fsyncs the directory). */
  commit(): void
  /** Links the staged file as the target only if there is none (EEXIST otherwise), then removes the staged name. */
  commitNew(): void
  /** Removes the staged file; the target is untouched. A no-op after commit. */
  discard(): void
}

/**
 * The first half of writeFileAtomic: the temp file, written and fsynced, and nothing replaced
 * yet. For files that must change together (a certificate and its key): stage every one, then
 * commit them, so a failed write leaves all the old files in place.
 */
export function stageFileAtomic(file: string, data: string | Uint8Array | StreamedText, mode = 0o600): StagedFile {
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${randomBytes(6).toString('hex')}`)
  writeNewFileSynced(tmp, data, mode)
  let done = false
  const discard = (): void => {
    if (done) return
    done = true
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
  }
  return {
    commit: () => {
      if (done) return
      try {
        renameSync(tmp, file)
      } catch (e) {
        discard()
        throw e
      }
      done = true
      fsyncDir(dir)
    },
    commitNew: () => {
      if (done) return
      try {
        linkSync(tmp, file)
      } finally {
        discard()
      }
      fsyncDir(dir)
    },
    discard,
  }
}

/**
 * Creates `file` (which must not exist), writes `data` in full with `mode` (fchmod, so the umask
 * does not apply) and fsyncs it before closing, so its content survives a crash once a rename or
 * link that publishes it does. On any failure the partial file is removed and the error thrown.
 * For a file in a directory no reader looks at yet (a stage directory published by one rename);
 * a file that replaces another in place goes through writeFileAtomic.
 */
export function writeNewFileSynced(file: string, data: string | Uint8Array | StreamedText, mode = 0o600): void {
  const fd = openSync(file, 'wx', mode)
  try {
    try {
      fchmodSync(fd, mode)
      const writeAll = (buf: Uint8Array): void => {
        let off = 0
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
      }
      if (typeof data === 'function') data((chunk) => writeAll(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk))
      else writeAll(typeof data === 'string' ? Buffer.from(data, 'utf8') : data)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch (e) {
    try {
      unlinkSync(file)
    } catch {
      // already gone
    }
    throw e
  }
}

/** Content produced piece by piece: calls `write` with each piece, in order: UTF-8 text, or bytes as they are. */
export type StreamedText = (write: (chunk: string | Uint8Array) => void) => void

/**
 * fsyncs a directory, so the entries created, renamed or removed in it survive a crash. Errors
 * are ignored: some filesystems refuse fsync on a directory, and the change itself has happened.
 */
export function fsyncDir(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on a directory; the rename has still happened.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** Whether `file` names an existing directory (following a symlink): a path to write a file to that cannot take one. */
export function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory()
  } catch {
    return false
  }
}

/** Where `writePairAtomic` failed: staging either file (nothing replaced), or renaming the first or the second. */
export type PairStep = 'stage' | 'commit-first' | 'commit-second'

/**
 * Two files that must change together (a private key and its public key, a certificate and its
 * key): both staged in full before either is renamed, then `first` renamed before `second`. A
 * failure while staging replaces nothing; renaming `first` failing replaces nothing either (the
 * second staged file is removed); only renaming `second` failing leaves `first` replaced alone.
 * `stage(0 | 1)` writes one staged file (its error is thrown as is); `failed` turns a rename's
 * error into the caller's.
 */
export function writePairAtomic(stage: (which: 0 | 1) => StagedFile, failed: (step: Exclude<PairStep, 'stage'>, e: unknown) => Error): void {
  const first = stage(0)
  let second: StagedFile
  try {
    second = stage(1)
  } catch (e) {
    first.discard()
    throw e
  }
  try {
    first.commit()
  } catch (e) {
    second.discard()
    throw failed('commit-first', e)
  }
  try {
    second.commit()
  } catch (e) {
    throw failed('commit-second', e)
  }
}
