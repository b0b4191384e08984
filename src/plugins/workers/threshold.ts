/**
 * Which content goes to a pool: above 64 KiB (spec mcp.md §18.4, "> 64 KiB"), for MCP messages
 * and HTTP bodies alike — for a request body, 64 KiB of what its scan reads
 * (`requestBodyScanBytes`: a gzip body's inflation bound, the split-secret pairs of a JSON body's
 * values). Below it a scan costs at most a few milliseconds on the event loop and the thread hop
 * (a copy each way and a wake-up) would cost more than it saves.
 */
export const OFFLOAD_THRESHOLD_BYTES = 64 * 1024

/** `content`'s UTF-8 length when it is over `threshold` bytes, else 0 (stays on the event loop). */
export function offloadedBytes(content: string, threshold = OFFLOAD_THRESHOLD_BYTES): number {
  // A string of at most threshold/3 UTF-16 units cannot exceed the threshold in UTF-8.
  if (content.length * 3 <= threshold) return 0
  const bytes = Buffer.byteLength(content)
  return bytes > threshold ? bytes : 0
}
