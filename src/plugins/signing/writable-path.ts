import {accessSync, constants, statSync} from 'node:fs'
import {osErrorReason} from '../errors/index.js'
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
