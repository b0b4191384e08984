/**
 * A smart-HTTP push's body, read and its content checked (containment.md §4): the ref updates, and
 * the pack's readable objects (blobs, commit and tag messages, thin deltas' inserts) through text
 * DLP in pack order up to the first object with a finding. Pure given the scanner: the proxy's
 * `git_push` stage runs it on the scan pool (a pack inflates: its compressed size says nothing of
 * the work), a thread computing what the event loop would.
 */
import type {Scanner} from '../scanner/index.js'
import {parseReceivePack, type RefUpdate} from './receive-pack.js'

/** Bytes of pack content scanned per push at most (the body stage already bounds the body). */
export const MAX_PACK_SCAN_BYTES = 64 * 1024 * 1024

export interface PackCheck {
  readonly updates: readonly RefUpdate[]
  /** Why the pack could not be read to its end, or was too large to scan whole ('' = read and scanned whole, or no pack): refused then. */
  readonly error: string
  /** The DLP pattern names of the first object with a finding (empty: none). */
  readonly found: readonly string[]
}

/** `maxBytes`: the pack content scanned at most (the tests lower it). */
export function checkReceivePack(scanner: Pick<Scanner, 'scanTextForDlp'>, body: Buffer, maxBytes = MAX_PACK_SCAN_BYTES): PackCheck {
  const push = parseReceivePack(body)
  if (push.error !== '') return {updates: push.updates, error: push.error, found: []}
  let scanned = 0
  for (const blob of push.blobs) {
    // Past the cap the rest would go out unscanned: the push is refused instead (fail closed),
    // unless an object read before it already holds a finding.
    if (scanned + blob.length > maxBytes) return {updates: push.updates, error: `its content exceeds ${maxBytes} bytes, the most a push is scanned for`, found: []}
    scanned += blob.length
    const found = scanner.scanTextForDlp(blob.toString('utf8')).matches
    if (found.length > 0) return {updates: push.updates, error: '', found: [...new Set(found.map((f) => f.pattern))]}
  }
  return {updates: push.updates, error: '', found: []}
}
