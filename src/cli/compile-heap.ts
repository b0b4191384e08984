import {setFlagsFromString} from 'node:v8'
import {operatorGave} from './young-generation.js'

/**
 * V8 heap sizing for `learn compile` (issue 36: peak RSS under 512 MB at 1,000,000 events). The
 * compile keeps a cell per distinct raw path and an aggregate per rule alive, and decoding a
 * capture line leaves kilobytes of short-lived garbage, part of which is promoted; with V8's
 * default growth the old generation filled with that garbage to well above the live size before
 * each mark-compact (a 200,000-event realistic corpus: 323 MB peak RSS by default, 237 MB with
 * 30 %, for ≈ 7 % more CPU). As for `verify-receipt` (verifier-heap.ts), the old generation may
 * grow by `COMPILE_HEAP_GROWING_PERCENT` over the live size after each mark-compact.
 *
 * Not done when the operator gave `--heap-growing-percent` themselves (node flags or
 * NODE_OPTIONS). Returns whether it was applied.
 */
export const COMPILE_HEAP_GROWING_PERCENT = 30

export function sizeCompileHeap(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, /^--heap[-_]growing[-_]percent/)) return false
  setFlagsFromString(`--heap-growing-percent=${COMPILE_HEAP_GROWING_PERCENT}`)
  return true
}
