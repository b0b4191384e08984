import {setFlagsFromString} from 'node:v8'

/**
 * Asks V8 to size the heap for memory rather than speed for the rest of this one-shot command.
 * `learn shadow` keeps ≈ 30 MB live while it replays, but the replay's short-lived garbage lets
 * V8's default heap sizing grow the heap to ≈ 5× that (issue 17: 300k events against an
 * 18,643-rule contract peaked at 310 MB RSS with everything else done; 170 MB with this; the CPU
 * cost is in docs/benchmarks.md). V8 reads `--optimize-for-size` when it sizes the heap after each
 * collection, so setting it after start-up takes effect. Only batch commands that replay or read
 * large inputs call this, and the MCP stdio wrap and bridges (one client per process, RSS per wrap is
 * their budget: src/cli/mcp-proxy-run.ts); never the HTTP proxy or the MCP listener, where latency
 * matters more than a few MB.
 */
export function preferSmallHeap(): void {
  setFlagsFromString('--optimize-for-size')
}
