import {setFlagsFromString} from 'node:v8'
import {operatorGave} from './young-generation.js'

/**
 * Defers V8's baseline (Sparkplug) and optimizing (TurboFan) compilers while `pipelock run`
 * starts (issue 18). Start-up runs almost all of its code once — module bodies, the config
 * parse, the scanner's pattern analysis — yet V8 tiered the warmest of it up on its background
 * threads, work that never paid back before the first request; the interpreter runs run-once
 * code at least as cheaply (docs/benchmarks.md, "Start-up: the bundled run path"). `run` resumes
 * both once it listens (`resumeCompilers`), so traffic is compiled exactly as before: V8 reads
 * these flags each time it decides to tier a function up (checked by test/unit/cli/
 * startup-compilers.test.ts). Not done when the operator set either compiler's flag themselves.
 * Returns whether it was applied.
 */
export function deferCompilers(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorSet(execArgv, nodeOptions)) return false
  setFlagsFromString('--no-sparkplug')
  setFlagsFromString('--no-turbofan')
  return true
}

/** V8's defaults back (Node 20: `--sparkplug --turbofan`). */
export function resumeCompilers(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (operatorSet(execArgv, nodeOptions)) return
  setFlagsFromString('--sparkplug')
  setFlagsFromString('--turbofan')
}

const COMPILER_FLAG = /^--(no[-_])?(sparkplug|turbofan|opt|maglev|jitless)\b/

function operatorSet(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(execArgv, nodeOptions, COMPILER_FLAG)
}
