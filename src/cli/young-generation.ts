import {setFlagsFromString} from 'node:v8'

/**
 * Keeps V8's young generation at its initial size while a long-running command starts (bench: startup).
 * Start-up (oclif, the zod config schema, the scanner catalogue, undici) allocates in bursts whose
 * objects survive one scavenge, and V8 answers that by doubling the semi-spaces up to their 16 MiB
 * default: `pipelock run --preset balanced` sat at ≈ 123 MiB idle of which ≈ 23 MiB was a young
 * generation holding nothing (bench: startup). `--max-semi-space-size` is read only when the heap is created, so it cannot be set
 * from inside the process; `--semi-space-growth-factor` is read each time V8 grows the young
 * generation, so setting it to 1 before the first growth keeps the initial semi-spaces.
 * Not done when the operator sized the young generation themselves (node flags or NODE_OPTIONS).
 * Returns whether it was applied.
 */
export function holdYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorSizedYoungGeneration(execArgv, nodeOptions)) return false
  setFlagsFromString('--semi-space-growth-factor=1')
  return true
}

/**
 * Whether the operator gave a node/V8 flag matching `flag` themselves, on the command line or in
 * NODE_OPTIONS: start-up tuning that sets V8 flags from inside the process (this file,
 * startup-compilers.ts) stands back then. Kept here, not in a file of its own, so `bin/run.js`
 * loads no extra module before oclif.
 */
export function operatorGave(execArgv: readonly string[], nodeOptions: string | undefined, flag: RegExp): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => flag.test(a))
}

const YOUNG_GENERATION_FLAG = /^--(max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/

/** Whether the operator sized the young generation themselves (young-generation-cap.ts stands back then too). */
export function operatorSizedYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(execArgv, nodeOptions, YOUNG_GENERATION_FLAG)
}

