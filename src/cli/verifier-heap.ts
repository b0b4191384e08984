import {setFlagsFromString} from 'node:v8'
import {operatorGave} from './young-generation.js'

/**
 * V8 heap sizing for `verify-receipt`, a one-shot command that reads a whole recorder chain
 * (bench: verify; peak RSS ≤ 150 MB and flat at 1,000,000 receipts). The verifier keeps almost
 * nothing alive (≈ 7 MiB after a full GC, flat in the number of receipts) but allocates
 * ≈ 25 KiB of short-lived garbage a line, of which 2–4 % survives two scavenges and is promoted.
 * Left to its defaults V8 let the old generation fill with that promoted garbage to several
 * times the live size before a mark-compact, and how far it went depended on the run's length
 * (bench: verify, `--million`). Here the
 * old generation may grow by `HEAP_GROWING_PERCENT` over the live size after each mark-compact
 * (V8 reads `--heap-growing-percent` each time it sets the next limit, so it applies after
 * start-up); with so little alive each mark-compact is short.
 *
 * Not done when the operator gave `--heap-growing-percent` themselves (node flags or
 * NODE_OPTIONS). Returns whether it was applied.
 */
export const HEAP_GROWING_PERCENT = 30

export function sizeVerifierHeap(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, /^--heap[-_]growing[-_]percent/)) return false
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}
