// Work that verifies a receipt chain (verify-receipt, transcript-root, audit packet build and
// verify, audit report): the verifier's heap sized for a chain of any length, and a progress line
// on a terminal while it runs (never with --json). A million receipts take about a minute.
import {commandProgress} from './progress.js'
import {sizeVerifierHeap} from './v8-flags.js'

/** The progress callback of the evidence verifier: bytes read, bytes in all, receipts so far. */
export type VerifyProgress = (bytesRead: number, bytesTotal: number, receipts: number) => void

/** Runs `work` with the progress callback to hand the verifier (absent when no line is drawn). */
export async function verifyingWork<T>(json: boolean, work: (onProgress: VerifyProgress | undefined) => Promise<T>): Promise<T> {
  // Memory flat in the chain's length (bench: verify); stands back for the operator's own V8 flags.
  sizeVerifierHeap(process.execArgv, process.env.NODE_OPTIONS)
  const progress = commandProgress(json, 'verifying', 'receipts')
  try {
    return await work(progress.option.onProgress)
  } finally {
    progress.done()
  }
}
