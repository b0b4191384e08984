import type {IntegrityResult} from '../plugins/mcp-proxy/index.js'

/** Prints an integrity report (mcp.md §12.4): text lines, or the report as 2-space JSON; exit 1 when not ok. */
export function printIntegrity(r: IntegrityResult, json: boolean, out: (s: string) => void): void {
  if (json) out(JSON.stringify(r.report, null, 2))
  else for (const l of r.lines) out(l)
  if (!r.report.ok) process.exitCode = 1
}
