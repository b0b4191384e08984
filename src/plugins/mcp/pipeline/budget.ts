/**
 * Denial-of-wallet budgets on `tools/call` (spec mcp.md §10.1): one tracker per process (the HTTP
 * listener shares it across clients), fed every `tools/call` with a tool name, in gate order
 * after the tool policy. Checks, first hit wins: call count, wall clock, loop (same tool and
 * arguments), runaway argument growth, A-B-A-B cycle. `max_concurrent_tool_calls`,
 * `max_retries_per_endpoint` and `fan_out_*` only switch the tracker on (they are not applied to
 * MCP, §17 D9); `cost_multipliers` is parsed and unused.
 */
import {createHash} from 'node:crypto'

export interface DowSettings {
  readonly maxToolCalls: number
  readonly maxWallClockMinutes: number
  readonly maxRetriesPerTool: number
  readonly loopWindow: number
  readonly action: 'block' | 'warn'
}

/** The §10.1 budget names (receipt pattern, log suffix). */
export type DowBudget = 'tool_call_limit' | 'wall_clock' | 'loop_detected' | 'runaway_expansion' | 'cycle_detected'

export interface DowFinding {
  readonly budget: DowBudget
  /** `tool call limit exceeded: 3/2` … (the error message without `pipelock: `). */
  readonly reason: string
  readonly action: 'block' | 'warn'
}

/** The budget fields as written under `agents.<name>.budget` (all optional). */
export interface DowBudgetInput {
  readonly max_tool_calls_per_session?: number
  readonly max_concurrent_tool_calls?: number
  readonly max_wall_clock_minutes?: number
  readonly max_retries_per_tool?: number
  readonly max_retries_per_endpoint?: number
  readonly loop_detection_window?: number
  readonly fan_out_limit?: number
  readonly dow_action?: string
}

const ACTIVATING = ['max_tool_calls_per_session', 'max_concurrent_tool_calls', 'max_wall_clock_minutes', 'max_retries_per_tool', 'max_retries_per_endpoint', 'loop_detection_window', 'fan_out_limit'] as const

/** Null when no activating field is > 0 (the tracker does not exist, §10.1). */
export function dowSettings(b: DowBudgetInput | undefined): DowSettings | null {
  if (b === undefined || !ACTIVATING.some((k) => (b[k] ?? 0) > 0)) return null
  const pos = (n: number | undefined, d: number): number => ((n ?? 0) > 0 ? n! : d)
  return {
    maxToolCalls: b.max_tool_calls_per_session ?? 0,
    maxWallClockMinutes: b.max_wall_clock_minutes ?? 0,
    maxRetriesPerTool: pos(b.max_retries_per_tool, 5),
    loopWindow: pos(b.loop_detection_window, 20),
    action: b.dow_action === 'warn' ? 'warn' : 'block',
  }
}

/** Go `time.Duration.String()` of a whole number of seconds (`0s`, `5s`, `2m5s`, `1h0m5s`). */
export function goSeconds(total: number): string {
  const s = Math.max(0, Math.floor(total))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const sec = s % 60
  if (h > 0) return `${h}h${m}m${sec}s`
  if (m > 0) return `${m}m${sec}s`
  return `${sec}s`
}

interface Call {
  readonly tool: string
  readonly hash: string
  readonly size: number
}

export class DowTracker {
  private readonly history: Call[] = []
  private total = 0
  private readonly startMs: number

  constructor(readonly settings: DowSettings, private readonly now: () => number) {
    this.startMs = now()
  }

  /**
   * Records one call and returns the first exceeded budget, or null. `argsText` is the compact
   * JSON of `params.arguments` ('' when absent); its first 8 SHA-256 bytes identify a retry.
   */
  observe(tool: string, argsText: string): DowFinding | null {
    const st = this.settings
    const hash = createHash('sha256').update(argsText).digest().subarray(0, 8).toString('hex')
    this.history.push({tool, hash, size: Buffer.byteLength(argsText)})
    if (this.history.length > st.loopWindow) this.history.splice(0, this.history.length - st.loopWindow)
    this.total++
    const hit = (budget: DowBudget, reason: string): DowFinding => ({budget, reason, action: st.action})

    if (st.maxToolCalls > 0 && this.total > st.maxToolCalls) return hit('tool_call_limit', `tool call limit exceeded: ${this.total}/${st.maxToolCalls}`)
    if (st.maxWallClockMinutes > 0) {
      const elapsed = (this.now() - this.startMs) / 1000
      const limit = st.maxWallClockMinutes * 60
      if (elapsed > limit) return hit('wall_clock', `wall clock budget exceeded: ${goSeconds(elapsed)}/${goSeconds(limit)}`)
    }
    const same = this.history.filter((c) => c.tool === tool && c.hash === hash).length
    if (same > st.maxRetriesPerTool) return hit('loop_detected', `loop detected: ${tool} called ${same} times with same args (limit ${st.maxRetriesPerTool})`)
    const mine = this.history.filter((c) => c.tool === tool).slice(-4)
    if (mine.length === 4 && mine.every((c, i) => i === 0 || c.size > mine[i - 1]!.size)) {
      return hit('runaway_expansion', `runaway expansion: ${tool} args size increasing over 4 calls`)
    }
    const last = this.history.slice(-4)
    if (last.length === 4) {
      const [a, b, c, d] = last.map((x) => x.tool) as [string, string, string, string]
      if (a !== b && a === c && b === d) return hit('cycle_detected', `cycle detected: ${a} -> ${b} -> ${a} -> ${b}`)
    }
    return null
  }
}
