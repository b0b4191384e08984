import {setFlagsFromString} from 'node:v8'
import {operatorGave} from './young-generation.js'

/**
 * Defers V8's baseline (Sparkplug) and optimizing (TurboFan) compilers while `pipelock run`
 * starts (bench: startup). Start-up runs almost all of its code once — module bodies, the config
 * parse, the scanner's pattern analysis — yet V8 tiered the warmest of it up on its background
 * threads, work that never paid back before the first request; the interpreter runs run-once
 * code at least as cheaply (bench: startup). `run` resumes
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

/** V8's default `--wasm-tiering-budget` (Node 20, V8 11.3). */
const WASM_TIERING_BUDGET = 1_800_000
const WASM_TIERING_FLAG = /^--(no[-_])?(wasm[-_]tiering[-_]budget|liftoff|liftoff[-_]only|wasm[-_]tier[-_]up|wasm[-_]dynamic[-_]tiering)\b/

/**
 * Lets a WebAssembly function run ten times V8's default amount of Liftoff code before it is
 * TurboFanned (bench: startup, idle RSS). The one WebAssembly module `run` loads is undici's llhttp,
 * instantiated on the first upstream connection; with the default budget, parsing the first
 * response or two already sends its state machine — one very large function — to TurboFan on a
 * background thread, and that compile's zone memory stays in the thread's malloc arena: about
 * +10 MiB of RSS in about half of all starts that served one request (bench:
 * startup). Under traffic the parser still reaches TurboFan, a few dozen
 * responses later. V8 reads the budget when a module is instantiated, so this is set while `run`
 * starts and left so. Not done when the operator set a WebAssembly tiering flag themselves.
 * Returns whether it was applied.
 */
export function raiseWasmTieringBudget(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, WASM_TIERING_FLAG)) return false
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET * 10}`)
  return true
}

