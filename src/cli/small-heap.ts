import {setFlagsFromString} from 'node:v8'

/**
 * Asks V8 to size the heap for memory rather than speed. `learn shadow` calls it for its contract
 * load (a 36 MB, 27k-rule contract peaked at ≈ 175 MB RSS with this, ≈ 230 MB without; see
 * `sizeHeapForReplay` for what follows the load); the MCP stdio wrap and bridges keep it for their
 * whole life (one client per process, RSS per wrap is their budget: src/cli/mcp-proxy-run.ts).
 * V8 reads `--optimize-for-size` when it sizes the heap after each collection, so setting it after
 * start-up takes effect. Never the HTTP proxy or the MCP listener, where latency matters more than
 * a few MB.
 */
export function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size')
}

/**
 * The heap sizing for a streaming replay after `preferSmallHeap` (bench: shadow). `--optimize-for-size`
 * also keeps the young generation at its smallest, so a replay's short-lived garbage (most of what
 * it allocates) was scavenged ≈ 5× as often and promoted early: ≈ 30% of the replay's CPU on both
 * threads (bench: shadow). So it is turned off for the replay, and the old generation's growth
 * is bounded instead: after each full collection V8 lets it grow to 1.5× what survived
 * (`--heap-growing-percent`, read whenever V8 sets the next limit) rather than its default of up
 * to ≈ 4× — which, with the replay's memo of known URLs live, is what let the heap reach 386 MB at
 * 1M events without the flag. Flags are process-wide: a worker thread started after this call runs
 * with the same sizing.
 */
export function sizeHeapForReplay(): void {
  setFlagsFromString('--no-optimize-for-size')
  setFlagsFromString(`--heap-growing-percent=${REPLAY_HEAP_GROWING_PERCENT}`)
}

/** Old-generation headroom over what survived the last full collection, in percent (see `sizeHeapForReplay`). */
export const REPLAY_HEAP_GROWING_PERCENT = 50
