import path from 'node:path'
import {parseGoDuration} from '../plugins/canonical/index.js'
import {PipelockError} from '../plugins/errors/index.js'

export interface CaptureRunOptions {
  captureDir?: string
  captureRaw?: boolean
  captureDurationMs?: number
}

/** Flags → run options: a relative directory is resolved against the working directory. */
export function captureRunOptions(dir: string | undefined, duration: string | undefined, raw: boolean | undefined): CaptureRunOptions {
  const out: CaptureRunOptions = {}
  if (dir !== undefined) {
    if (dir === '') throw new PipelockError('USAGE', 'capture directory must not be empty')
    out.captureDir = path.resolve(dir)
  }
  if (duration !== undefined) {
    if (dir === undefined) throw new PipelockError('USAGE', '--capture-duration needs a capture directory (--capture-output)')
    const ms = parseGoDuration(duration)
    if (!(ms > 0)) throw new PipelockError('USAGE', `--capture-duration must be positive, got ${JSON.stringify(duration)}`)
    out.captureDurationMs = ms
  }
  if (raw === true) {
    if (dir === undefined) throw new PipelockError('USAGE', '--capture-raw needs a capture directory')
    out.captureRaw = true
  }
  return out
}
