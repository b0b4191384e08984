import {parseJson} from '../canonical/index.js'
import {actionReceiptHash, parseActionReceiptTree, prepareActionReceiptCheck, recordUint, type ActionReceipt} from '../receipts/index.js'
import {verifyBytes} from '../signing/index.js'
import {scanRecorderTails, type RecorderTails} from './tail-scan.js'

// The last v1 receipt of a recorder session, parsed: what a restarted run continues from
// (receipts.md §8 Resume) and what a rotation endorsement names as the old segment's end (§10).

export type ReceiptTail =
  | {kind: 'none'}
  /** A transcript root after the last receipt sealed the chain. */
  | {kind: 'sealed'}
  | {kind: 'unparsable'; error: string}
  | {kind: 'receipt'; receipt: ActionReceipt; seq: bigint; hash: string; signerKey: string}

export async function readReceiptTail(dir: string, sessionId: string, tails?: RecorderTails): Promise<ReceiptTail> {
  const tail = (tails ?? (await scanRecorderTails(dir, sessionId))).action
  if (tail === undefined) return {kind: 'none'}
  if (tail.sealedAfter) return {kind: 'sealed'}
  let receipt: ActionReceipt
  try {
    receipt = parseActionReceiptTree(parseJson(tail.detailRaw))
  } catch (e) {
    return {kind: 'unparsable', error: (e as Error).message}
  }
  return {kind: 'receipt', receipt, seq: recordUint(receipt.record, 'chain_seq'), hash: actionReceiptHash(receipt), signerKey: receipt.signerKey}
}

/** Why the tail receipt is not a valid receipt signed by `keyHex` (lowercase hex); undefined when it is. */
export function tailSignatureError(tail: {receipt: ActionReceipt}, keyHex: string): string | undefined {
  const check = prepareActionReceiptCheck(tail.receipt, keyHex)
  if (typeof check === 'string') return check
  return verifyBytes(check.publicKey, check.digest, check.signature) ? undefined : 'signature verification failed'
}
