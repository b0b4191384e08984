import {accessSync, constants, statSync} from 'node:fs'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {directoryProblem, makeDirs} from '../signing/index.js'

// The capture directory is checked once, at start: created (0700) when missing, refused when it
// is a file or cannot be written. Found later, every record would be dropped (counted only in
// /metrics) while the proxy claimed to be observing.

const refusal = (dir: string, why: string): PipelockError =>
  new PipelockError('CAPTURE_DIR_UNUSABLE', `capture directory ${dir}: ${why}`, {hint: 'give a directory pipelock can create or write (--capture-dir, --capture-output or learn.capture_dir)'})

/** `check`'s question: the refusal prepareCaptureDir would give at start, without creating anything. */
export function checkCaptureDir(dir: string): void {
  const why = directoryProblem(dir)
  if (why !== undefined) throw refusal(dir, why)
}

export function prepareCaptureDir(dir: string): void {
  try {
    makeDirs(dir, 0o700)
  } catch (e) {
    throw refusal(dir, `cannot be created: ${osErrorReason(e)}`)
  }
  if (!statSync(dir).isDirectory()) throw refusal(dir, 'is not a directory')
  try {
    accessSync(dir, constants.W_OK | constants.X_OK)
  } catch (e) {
    throw refusal(dir, `is not writable: ${osErrorReason(e)}`)
  }
}
