import {accessSync, constants, lstatSync, statSync, type Stats} from 'node:fs'
import {osErrorReason, PipelockError} from '../errors/index.js'
import path from 'node:path'

/**
 * Whether `p` could be written: `p` itself when it exists, else its nearest existing ancestor
 * (what would be created below it is not there yet), checked with `access(mode)`. Returns the
 * path that decided and, when it cannot be written, the error of that check (`ENOTDIR` when a
 * regular file stands where a directory would be).
 */
export function writableProbe(p: string, mode: number): {readonly probe: string; readonly error?: NodeJS.ErrnoException} {
  for (let probe = p; ; probe = path.dirname(probe)) {
    try {
      accessSync(probe, mode)
      return {probe}
    } catch (e) {
      const err = e as NodeJS.ErrnoException
      if (err.code !== 'ENOENT' || path.dirname(probe) === probe) return {probe, error: err}
    }
  }
}

/**
 * Why a directory could not be used at `dir` (created where missing, then written), in the words
 * of the start-up that would fail; undefined when it could. Nothing is created: `check` asks it
 * for what `run` creates.
 */
export function directoryProblem(dir: string): string | undefined {
  const target = path.resolve(dir)
  const {probe, error} = writableProbe(target, constants.W_OK | constants.X_OK)
  let isDir: boolean
  try {
    isDir = statSync(probe).isDirectory()
  } catch (e) {
    return `cannot be created: ${osErrorReason(e)}`
  }
  if (probe === target) {
    if (!isDir) return 'is not a directory'
    return error === undefined ? undefined : `is not writable: ${osErrorReason(error)}`
  }
  if (!isDir) return `cannot be created: ${probe} is not a directory`
  return error === undefined ? undefined : `cannot be created: ${osErrorReason(error)}`
}

/**
 * What is at an output path before a command writes it: its lstat, or undefined when nothing is
 * there yet (missing directories on the way are the caller's to create). When the path cannot be
 * written because something on the way to it is not a directory (`--out notes.txt/x.yaml`), or
 * cannot be looked at, the error is one WRITE_FAILED line naming `what` (the flag, with the
 * command's prefix) and the path, and which part of it is in the way — never a raw ENOTDIR.
 */
export function lstatOutputPath(p: string, what: string): Stats | undefined {
  try {
    return lstatSync(p)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    if (code === 'ENOTDIR') {
      const blocker = nonDirectoryAncestor(p)
      if (blocker !== undefined) {
        throw new PipelockError('WRITE_FAILED', `${what} ${p} cannot be written: ${blocker.path} is ${blocker.file ? 'a file, ' : ''}not a directory`, {
          hint: `name a path in a directory, not under ${blocker.path}`,
        })
      }
    }
    throw new PipelockError('WRITE_FAILED', `${what} ${p} cannot be written: ${osErrorReason(e)}`)
  }
}

/** The nearest ancestor of `p` that exists and is not a directory (following links), if any. */
function nonDirectoryAncestor(p: string): {path: string; file: boolean} | undefined {
  for (let probe = path.dirname(p); ; probe = path.dirname(probe)) {
    let st: Stats | undefined
    try {
      st = statSync(probe)
    } catch {
      st = undefined
    }
    if (st !== undefined) return st.isDirectory() ? undefined : {path: probe, file: st.isFile()}
    if (path.dirname(probe) === probe) return undefined
  }
}
