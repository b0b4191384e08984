import {JsonNumber, type JsonObject} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'

// Session-open genesis G (receipts.md §6.5.1): SHA-256 over length-framed fields, each frame
// = 8-byte big-endian length ‖ bytes. Field order is fixed by the format.

const DOMAIN = 'pipelock.receipt.session_open.v1'
const STRING_FRAMES_BEFORE = ['run_nonce', 'open_nonce', 'recorder_session', 'policy_hash', 'signer_key_epoch']
const STRING_FRAMES_AFTER = ['genesis_anchor_head', 'genesis_anchor_log', 'posture_capsule_sha256', 'containment_nonce', 'contained_uid']

function frame(bytes: Buffer): Buffer {
  const len = Buffer.alloc(8)
  len.writeBigUInt64BE(BigInt(bytes.length))
  return Buffer.concat([len, bytes])
}

function str(open: JsonObject, name: string): Buffer {
  const v = open.get(name)
  return Buffer.from(typeof v === 'string' ? v : '', 'utf8')
}

/** `g1:` + hex digest for a projected session_open payload. */
export function sessionOpenGenesis(open: JsonObject): string {
  const frames: Buffer[] = [frame(Buffer.from(DOMAIN, 'ascii'))]
  for (const name of STRING_FRAMES_BEFORE) frames.push(frame(str(open, name)))
  const hb = open.get('heartbeat_seconds')
  let seconds = hb instanceof JsonNumber ? BigInt(hb.text) : 0n
  if (seconds < 0n) seconds = 0n // negative values are clamped to 0
  const hbBytes = Buffer.alloc(8)
  hbBytes.writeBigUInt64BE(seconds)
  frames.push(frame(hbBytes))
  for (const name of STRING_FRAMES_AFTER) frames.push(frame(str(open, name)))
  return 'g1:' + sha256Hex(Buffer.concat(frames))
}
