import path from 'node:path'
import {parseGoDuration} from '../plugins/canonical/index.js'
import {PipelockError} from '../plugins/errors/index.js'
import {readEscrowKey, refuseSpecialFile} from '../plugins/signing/index.js'

export interface CaptureRunOptions {
  captureDir?: string
  captureRaw?: boolean
  captureDurationMs?: number
  captureEscrowPublicKey?: Buffer
}

/** Flags → run options: a relative directory is resolved against the working directory. */
export function captureRunOptions(dir: string | undefined, duration: string | undefined, raw: boolean | undefined, escrowPublicKey?: string): CaptureRunOptions {
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
  if (escrowPublicKey !== undefined) {
    // 64 hex inline or a file (escrow keygen prints the public half); whether a capture directory
    // exists is decided at start, where learn.capture_dir is known too.
    refuseSpecialFile(escrowPublicKey, '--capture-escrow-public-key')
    const key = readEscrowKey(escrowPublicKey)
    if (key === undefined) throw new PipelockError('KEY_INVALID', '--capture-escrow-public-key must be 64 hex characters (a 32-byte X25519 public key) or a file holding them')
    out.captureEscrowPublicKey = key
  }
  return out
}
