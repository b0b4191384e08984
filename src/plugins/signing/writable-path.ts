import {accessSync} from 'node:fs'
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
