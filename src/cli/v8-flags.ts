import type {PerformanceObserver as GcObserver} from 'node:perf_hooks'
import {getHeapSpaceStatistics, setFlagsFromString} from 'node:v8'

/**
 * Every V8 and GC flag pipelock sets from inside its own process, one function per flag, each
 * with what it buys (figures: docs/benchmarks.md, by benchmark name). Who calls what:
 *
 * - bin/run.js, before `run` or the MCP stdio wrap loads its code: `holdYoungGeneration`; for
 *   `run` also `deferCompilers` and `raiseWasmTieringBudget`. The built-ins and the bundle are
 *   compiled from their code caches before that, because a V8 flag changes the flag hash the caches
 *   are keyed by (src/cli/run-bundle.ts).
 * - `run`, once it listens (src/cli/run-proxy.ts): `releaseYoungGenerationUpTo`,
 *   `scavengeOnMainThread`, `resumeCompilers`.
 * - the MCP wrap and bridges (src/cli/mcp-proxy-run.ts) and `learn shadow`: `preferSmallHeap`;
 *   `learn shadow` then `sizeHeapForReplay`. `verify-receipt`: `sizeVerifierHeap`. `learn compile`:
 *   `sizeCompileHeap`, and `compactHeapNow` once, before it writes a large signed body.
 *
 * Each stands back when the operator gave a flag of the same family on the command line or in
 * NODE_OPTIONS (`operatorGave`), except the two heap sizings of `learn shadow`.
 * `--max-semi-space-size` and the like are read only when the heap is created, so none of this can
 * use them; what V8 re-reads at run time is what is set here.
 *
 * Loaded by bin/run.js before oclif and in the MCP wrap: it imports nothing but `node:v8` (the GC
 * observer is Node's global `PerformanceObserver`, so `node:perf_hooks` is not loaded for it).
 */

/** Whether the operator gave a node/V8 flag matching `flag` themselves, on the command line or in NODE_OPTIONS. */
export function operatorGave(execArgv: readonly string[], nodeOptions: string | undefined, flag: RegExp): boolean {
  return [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => flag.test(a))
}

const YOUNG_GENERATION_FLAG = /^--(max|min)[-_]semi[-_]space[-_]size|^--semi[-_]space[-_]growth[-_]factor/

/** Whether the operator sized the young generation themselves (the hold and the cap stand back then). */
export function operatorSizedYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(execArgv, nodeOptions, YOUNG_GENERATION_FLAG)
}

/**
 * `--semi-space-growth-factor=1` while a long-running command starts: keeps V8's young generation
 * at its initial size. Start-up allocates in bursts whose objects survive one scavenge, and V8
 * answers by doubling the semi-spaces up to 16 MiB: `pipelock run --preset balanced` sat at
 * ≈ 123 MiB idle, ≈ 23 MiB of it a young generation holding nothing (bench: startup; the MCP
 * wrap's RSS, bench: mcp). V8 reads the factor each time it grows the young generation, so setting
 * it before the first growth keeps the initial semi-spaces. Returns whether it was applied.
 */
export function holdYoungGeneration(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorSizedYoungGeneration(execArgv, nodeOptions)) return false
  setFlagsFromString('--semi-space-growth-factor=1')
  return true
}

/**
 * The semi-space size `run` lets its young generation grow to once it listens, by what it runs
 * (`runSemiSpaceCap`). Measured together (bench: proxy with `--node-arms`, tls-tunnels with
 * `--turn-cpu`, interleaved, 2026-11-25, load 5–10):
 *
 * - TLS interception on: 2 MiB. In a burst of 256 intercepted tunnels a scavenge of V8's 16 MiB
 *   semi-space copied up to 8 MiB, a 10–28 ms pause, and at 4 MiB scavenges still reached
 *   9–11 ms under steady traffic on a quiet machine; at 2 MiB the longest own stall over bursts
 *   and steady traffic was 4.2–9.7 ms against 5.2–11 for the previous build, at the same CPU per
 *   request (0.382 against 0.374 ms intercepted). On the loaded machine the windows over 10 ms
 *   were 37 of 72 at 2 MiB, 36 at 4, 32 at 8 and 24 of 36 at 16 MiB: 2–8 MiB cannot be told
 *   apart there, 16 MiB is worse, so the quiet-machine figures decide. 1 MiB cost ≈ 10 % CPU.
 * - Interception off: V8's own maximum (16 MiB, Node 20 on 64-bit). The same 256 tunnels as plain
 *   CONNECT splices allocate a fifth of the intercepted CPU's garbage: own stalls over 10 ms in
 *   15 of 36 windows at 2 MiB, 16 of 36 at 8 and at 16 MiB (median longest stall 7.2, 8.9,
 *   7.0 ms), no difference; while 1 KiB GETs (50 connections, bench config) used 95–157 µs of
 *   CPU each at 16 MiB against 110–176 at 2 MiB in the same rounds: each request's garbage
 *   (≈ 36 KB) was scavenged with 50 requests in flight every ≈ 50 requests at 2 MiB, every
 *   ≈ 400 at 16.
 */
const RUN_SEMI_SPACE_CAP_BYTES = 16 * 1024 * 1024
const INTERCEPTING_SEMI_SPACE_CAP_BYTES = 2 * 1024 * 1024

/** The cap above for a `run` that intercepts TLS now (an interceptor in force) or does not. */
export function runSemiSpaceCap(intercepting: boolean): number {
  return intercepting ? INTERCEPTING_SEMI_SPACE_CAP_BYTES : RUN_SEMI_SPACE_CAP_BYTES
}

/**
 * `--semi-space-growth-factor=2` while a doubling stays within the cap, `=1` beyond, re-decided
 * after every GC: lets the young generation grow again after start-up's hold, for the traffic, but
 * never past the cap (V8's memory reducer may shrink it later; it can then grow back to the cap).
 * `cap` is read at every decision, so a config reload that turns interception on stops the growth
 * at the lower cap from the next GC (a young generation already larger stays until V8 shrinks it).
 * Returns the observer (for tests), or null when not applied.
 */
export function releaseYoungGenerationUpTo(execArgv: readonly string[], nodeOptions: string | undefined, cap: number | (() => number) = RUN_SEMI_SPACE_CAP_BYTES): GcObserver | null {
  if (operatorSizedYoungGeneration(execArgv, nodeOptions)) return null
  const capBytes = typeof cap === 'number' ? (): number => cap : cap
  let factor = 0
  const decide = (): void => {
    const next = 2 * semiSpaceBytes() <= capBytes() ? 2 : 1
    if (next === factor) return
    factor = next
    setFlagsFromString(`--semi-space-growth-factor=${next}`)
  }
  decide()
  const observer = new PerformanceObserver(decide)
  observer.observe({entryTypes: ['gc']})
  return observer
}

/**
 * One semi-space's usable capacity: used + available of the new space. (`space_size` counts both
 * semi-spaces once the second is committed, one before; this does not depend on that, and page
 * headers only make it a little less than the semi-space, so a doubling to the cap is allowed.)
 */
export function semiSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size + s.space_available_size
  return 0
}

/** A scavenger or GC-threading flag of the operator's own: `scavengeOnMainThread` stands back then. */
const SCAVENGE_THREADS_FLAG = /^--(no[-_])?parallel[-_]scavenge|^--(no[-_])?single[-_]threaded([-_]gc)?\b/

/**
 * `--no-parallel-scavenge` once `run` listens (V8 reads it at every scavenge): a scavenge never
 * waits for a preempted helper thread. A parallel scavenge ends with the main thread waiting for
 * every helper that took a share; on a busy host a preempted helper left the main thread asleep
 * inside the pause (stalls of 15.8 and 17.1 ms, 11.4 and 14.3 ms of them asleep; bench:
 * tls-tunnels). With the 2 MiB cap (interception on) a scavenge on the main thread alone is a few ms of its own
 * CPU: the longest own stall over 42 windows was 10.4 ms (the rest ≤ 8.9) against 3 of 42 over
 * 10 with helpers (up to 14.3), at +2–5 % CPU per request, within the noise. Concurrent marking and
 * sweeping stay on helper threads. `--parallel-scavenge` in NODE_OPTIONS turns this off.
 * Returns whether it was applied.
 */
export function scavengeOnMainThread(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, SCAVENGE_THREADS_FLAG)) return false
  setFlagsFromString('--no-parallel-scavenge')
  return true
}

const COMPILER_FLAG = /^--(no[-_])?(sparkplug|turbofan|opt|maglev|jitless)\b/

/**
 * `--no-sparkplug --no-turbofan` while `run` starts: no background tier-up of run-once code.
 * Start-up runs almost all of its code once (module bodies, the config parse, the scanner's
 * pattern analysis), yet V8 tiered the warmest of it up on its background threads, work that never
 * paid back before the first request; the interpreter runs run-once code at least as cheaply
 * (bench: startup). `resumeCompilers` gives both back once `run` listens, so traffic is compiled
 * exactly as before (V8 reads these flags each time it decides to tier a function up). Returns
 * whether it was applied.
 */
export function deferCompilers(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorSetCompilers(execArgv, nodeOptions)) return false
  setFlagsFromString('--no-sparkplug')
  setFlagsFromString('--no-turbofan')
  return true
}

/** `--sparkplug --turbofan`: V8's defaults back (Node 20) once `run` listens. */
export function resumeCompilers(execArgv: readonly string[], nodeOptions: string | undefined): void {
  if (operatorSetCompilers(execArgv, nodeOptions)) return
  setFlagsFromString('--sparkplug')
  setFlagsFromString('--turbofan')
}

function operatorSetCompilers(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return operatorGave(execArgv, nodeOptions, COMPILER_FLAG)
}

/** V8's default `--wasm-tiering-budget` (Node 20, V8 11.3). */
const WASM_TIERING_BUDGET = 1_800_000
const WASM_TIERING_FLAG = /^--(no[-_])?(wasm[-_]tiering[-_]budget|liftoff|liftoff[-_]only|wasm[-_]tier[-_]up|wasm[-_]dynamic[-_]tiering)\b/

/**
 * `--wasm-tiering-budget` at ten times V8's default, set while `run` starts and left so: about
 * 10 MiB less idle RSS in half of all starts. The one WebAssembly module `run` loads is undici's
 * llhttp; with the default budget the first response or two already sent its state machine (one
 * very large function) to TurboFan on a background thread, and that compile's zone memory stayed
 * in the thread's malloc arena (bench: startup). Under traffic the parser still reaches TurboFan,
 * a few dozen responses later. V8 reads the budget when a module is instantiated. Returns whether
 * it was applied.
 */
export function raiseWasmTieringBudget(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, WASM_TIERING_FLAG)) return false
  setFlagsFromString(`--wasm-tiering-budget=${WASM_TIERING_BUDGET * 10}`)
  return true
}

/**
 * `--optimize-for-size`: V8 sizes the heap for memory rather than speed (read when it sizes the
 * heap after each collection, so it takes effect after start-up). `learn shadow`'s contract load
 * peaked at ≈ 175 MB RSS with it against ≈ 230 MB without (a 36 MB, 27k-rule contract; bench:
 * shadow); the MCP stdio wrap and bridges keep it for their whole life, since RSS per wrap is
 * their budget (bench: mcp). Never the HTTP proxy or the MCP listener, where latency matters more
 * than a few MB.
 */
export function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size')
}

/**
 * `--no-optimize-for-size` and `--heap-growing-percent=50` for a streaming replay, after
 * `preferSmallHeap`: a replay's garbage is scavenged at the young generation's normal size again
 * (with `--optimize-for-size` it was scavenged ≈ 5× as often and promoted early, ≈ 30 % of the
 * replay's CPU), and the old generation grows to 1.5× what survived each full collection instead
 * of up to ≈ 4×, which let the heap reach 386 MB at 1M events (bench: shadow). Flags are
 * process-wide: a worker thread started after this runs with the same sizing.
 */
export function sizeHeapForReplay(): void {
  setFlagsFromString('--no-optimize-for-size')
  setFlagsFromString(`--heap-growing-percent=${REPLAY_HEAP_GROWING_PERCENT}`)
}

/** Old-generation headroom over what survived the last full collection, in percent (see `sizeHeapForReplay`). */
export const REPLAY_HEAP_GROWING_PERCENT = 50

/**
 * `--heap-growing-percent=30` for `verify-receipt`: peak RSS flat in the chain's length (bench:
 * verify, ≤ 150 MB at 1,000,000 receipts). The verifier keeps ≈ 7 MiB alive but allocates
 * ≈ 25 KiB of short-lived garbage a line, 2–4 % of it promoted; left to its defaults V8 let the old
 * generation fill with it to several times the live size, further the longer the run. With so
 * little alive each mark-compact is short. Returns whether it was applied.
 */
export const HEAP_GROWING_PERCENT = 30

export function sizeVerifierHeap(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, /^--heap[-_]growing[-_]percent/)) return false
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  return true
}

/**
 * The same `--heap-growing-percent=30` for `learn compile` (bench: compile: peak RSS at
 * 1,000,000 events). The compile keeps a cell per distinct raw path and an aggregate per rule
 * alive, and decoding a capture line leaves kilobytes of short-lived garbage, part of it
 * promoted; with V8's default growth the old generation filled with it well above the live size
 * before each mark-compact (a 200,000-event realistic corpus: 323 MB peak RSS by default, 237 MB
 * with 30 %, for ≈ 7 % more CPU). Not done when the operator gave the flag themselves.
 */
export const sizeCompileHeap = sizeVerifierHeap

/**
 * One full, compacting collection, swept on the calling thread, for `learn compile` right before
 * it writes the signed body (bench: compile, peak RSS at 1,000,000 events). Ed25519 in node:crypto
 * needs the whole canonical body in one buffer (≈ 0.95 KB a rule, 188 MB at 199,416 rules), and
 * it is written while the rule aggregates are alive; what else the heap holds then is what
 * aggregation left (and, when these figures were taken, a separate hashing pass, since folded
 * into the body's one pass): on the realistic corpus V8 kept ≈ 200 MB committed
 * for ≈ 100 MB alive, and that sum was the compile's peak (464–515 MB). Each flag is set for
 * this one collection and given back:
 *
 * - `--expose-gc`: the `gc` function, read from a new context (the flag is consulted when a
 *   context is created, so the main context never gains a `gc` global).
 * - `--compact-on-every-full-gc`: evacuate every fragmented page, not only those V8's heuristics
 *   pick, so the pages the survivors leave are freed (≈ 120 MB committed afterwards, not ≈ 190).
 * - `--no-concurrent-sweeping`: sweep and release the freed pages before returning, not in a
 *   background task that a busy machine may run only after the body has been written.
 *
 * Costs one mark-compact of the live aggregates (a few hundred ms at 200,000 rules). Not done
 * when the operator gave GC flags of these families themselves.
 */
export function compactHeapNow(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  if (operatorGave(execArgv, nodeOptions, /^--(no[-_])?(compact[-_]on[-_]every[-_]full[-_]gc|concurrent[-_]sweeping|expose[-_]gc)\b/)) return false
  setFlagsFromString('--expose-gc')
  setFlagsFromString('--compact-on-every-full-gc')
  setFlagsFromString('--no-concurrent-sweeping')
  try {
    const vm = process.getBuiltinModule('node:vm') as typeof import('node:vm')
    ;(vm.runInNewContext('gc') as () => void)()
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc')
    setFlagsFromString('--concurrent-sweeping')
    setFlagsFromString('--no-expose-gc')
  }
  return true
}
