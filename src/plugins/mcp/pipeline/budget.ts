/**
 * Denial-of-wallet budgets on `tools/call` (spec mcp.md §10.1): one tracker per agent profile
 * (`mcp proxy`: the wrap's; the HTTP listener shares it across clients; `run --mcp-listen`: the
 * profile a client's address binds, else `_default`), fed every `tools/call` with a tool name, in
 * gate order after the tool policy. Checks, first hit wins: call count (each call weighted by
 * `cost_multipliers`), wall clock, loop (same tool and arguments), runaway argument growth,
 * A-B-A-B cycle, then the three the reference documents as enforced and never applies (§17 D9,
 * docs/compatibility.md): calls in flight, calls to one endpoint, and unique endpoints in the
 * fan-out window. An endpoint is the host and path of an http(s)/ws(s) URL in the arguments.
 */
import {createHash} from 'node:crypto'

export interface DowSettings {
  readonly maxToolCalls: number
  readonly maxWallClockMinutes: number
  readonly maxRetriesPerTool: number
  readonly loopWindow: number
  readonly action: 'block' | 'warn'
  /** Calls forwarded and not yet answered (0 = unlimited). */
  readonly maxConcurrent: number
  /** Calls naming one endpoint over the tracker's life (0 = unlimited). */
  readonly maxRetriesPerEndpoint: number
  /** Unique endpoints within `fanOutWindowMs` (0 = off; validation requires both or neither). */
  readonly fanOutLimit: number
  readonly fanOutWindowMs: number
  /** A tool's weight in the call count (absent = 1). */
  readonly costs: ReadonlyMap<string, number>
}

/** The budget names (receipt pattern, log suffix, metric label). */
export type DowBudget =
  | 'tool_call_limit' | 'wall_clock' | 'loop_detected' | 'runaway_expansion' | 'cycle_detected'
  | 'concurrency_limit' | 'endpoint_retries' | 'fan_out'

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
  readonly fan_out_window_seconds?: number
  readonly cost_multipliers?: Readonly<Record<string, number>>
  readonly dow_action?: string
}

const ACTIVATING = ['max_tool_calls_per_session', 'max_concurrent_tool_calls', 'max_wall_clock_minutes', 'max_retries_per_tool', 'max_retries_per_endpoint', 'loop_detection_window', 'fan_out_limit'] as const

/** Endpoints remembered per tracker (retry counts and the fan-out window); the oldest go first. */
export const MAX_ENDPOINTS = 10_000

/** Null when no activating field is > 0 (the tracker does not exist, §10.1). */
export function dowSettings(b: DowBudgetInput | undefined): DowSettings | null {
  if (b === undefined || !ACTIVATING.some((k) => (b[k] ?? 0) > 0)) return null
  const pos = (n: number | undefined, d: number): number => ((n ?? 0) > 0 ? n! : d)
  const fanOut = (b.fan_out_limit ?? 0) > 0 && (b.fan_out_window_seconds ?? 0) > 0
  return {
    maxToolCalls: b.max_tool_calls_per_session ?? 0,
    maxWallClockMinutes: b.max_wall_clock_minutes ?? 0,
    maxRetriesPerTool: pos(b.max_retries_per_tool, 5),
    loopWindow: pos(b.loop_detection_window, 20),
    action: b.dow_action === 'warn' ? 'warn' : 'block',
    maxConcurrent: pos(b.max_concurrent_tool_calls, 0),
    maxRetriesPerEndpoint: pos(b.max_retries_per_endpoint, 0),
    fanOutLimit: fanOut ? b.fan_out_limit! : 0,
    fanOutWindowMs: fanOut ? b.fan_out_window_seconds! * 1000 : 0,
    costs: new Map(Object.entries(b.cost_multipliers ?? {})),
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

// A URL in the arguments' JSON text: the text is the compact re-encoding of the parsed value, so
// escapes (`\/`, `\u0068`) are already resolved and a string's end is its unescaped quote.
const URL_IN_TEXT = /\b(?:https?|wss?):\/\/[^\s"\\<>]+/gi

/** The distinct endpoints (`host[:port]/path`, host lower-cased) of the URLs in `argsText`. */
export function callEndpoints(argsText: string): string[] {
  const out = new Set<string>()
  for (const m of argsText.matchAll(URL_IN_TEXT)) {
    let u: URL
    try {
      u = new URL(m[0])
    } catch {
      continue
    }
    if (u.host !== '') out.add(`${u.host}${u.pathname}`)
  }
  return [...out]
}

interface Call {
  readonly tool: string
  readonly hash: string
  readonly size: number
}

/** Where a gate finds the tracker of a call: the tracker itself, or one per profile (`run`). */
export interface DowSource {
  trackerFor(clientIp: string | undefined): DowTracker | null
}

export class DowTracker implements DowSource {
  private readonly history: Call[] = []
  private total = 0
  private readonly startMs: number
  private inFlight = 0
  /** Endpoint → calls naming it (insertion order refreshed on use: the first key is the stalest). */
  private readonly endpointCalls = new Map<string, number>()
  /** Endpoint → when a call the budget let through last named it (same ordering). */
  private readonly fanOutSeen = new Map<string, number>()

  constructor(readonly settings: DowSettings, private readonly now: () => number) {
    this.startMs = now()
  }

  trackerFor(): DowTracker {
    return this
  }

  /** Calls forwarded and not yet answered. */
  get callsInFlight(): number {
    return this.inFlight
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
    this.total += st.costs.get(tool) ?? 1
    const hit = (budget: DowBudget, reason: string): DowFinding => ({budget, reason, action: st.action})
    const endpoints = st.maxRetriesPerEndpoint > 0 || st.fanOutLimit > 0 ? callEndpoints(argsText) : []
    const first = this.first(tool, hash, endpoints, this.countEndpoints(endpoints), hit)
    // The fan-out window holds what the budget let through: a call it blocks names no endpoint
    // there, so the endpoints already reached stay reachable while new ones are refused.
    if (st.fanOutLimit > 0 && (first === null || first.action === 'warn')) {
      const at = this.now()
      for (const e of endpoints) remember(this.fanOutSeen, e, at)
    }
    return first
  }

  /** Counts one attempt at each endpoint (a refused one too: a retry storm is the attempts); the first over the limit. */
  private countEndpoints(endpoints: readonly string[]): {endpoint: string; n: number} | null {
    const limit = this.settings.maxRetriesPerEndpoint
    if (limit <= 0) return null
    let over: {endpoint: string; n: number} | null = null
    for (const e of endpoints) {
      const n = (this.endpointCalls.get(e) ?? 0) + 1
      remember(this.endpointCalls, e, n)
      if (n > limit && over === null) over = {endpoint: e, n}
    }
    return over
  }

  private first(tool: string, hash: string, endpoints: readonly string[], retried: {endpoint: string; n: number} | null, hit: (b: DowBudget, r: string) => DowFinding): DowFinding | null {
    const st = this.settings
    if (st.maxToolCalls > 0 && this.total > st.maxToolCalls) return hit('tool_call_limit', `tool call limit exceeded: ${costText(this.total)}/${st.maxToolCalls}`)
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
    if (st.maxConcurrent > 0 && this.inFlight >= st.maxConcurrent) {
      return hit('concurrency_limit', `concurrent tool call limit exceeded: ${this.inFlight + 1}/${st.maxConcurrent} in flight`)
    }
    if (retried !== null) return hit('endpoint_retries', `endpoint retry limit exceeded: ${retried.endpoint} called ${retried.n} times (limit ${st.maxRetriesPerEndpoint})`)
    if (st.fanOutLimit > 0) {
      const since = this.now() - st.fanOutWindowMs
      for (const [e, at] of this.fanOutSeen) {
        if (at > since) break
        this.fanOutSeen.delete(e)
      }
      const fresh = endpoints.filter((e) => !this.fanOutSeen.has(e)).length
      const unique = this.fanOutSeen.size + fresh
      if (fresh > 0 && unique > st.fanOutLimit) {
        return hit('fan_out', `fan-out limit exceeded: ${unique} unique endpoints in ${goSeconds(st.fanOutWindowMs / 1000)} (limit ${st.fanOutLimit})`)
      }
    }
    return null
  }

  /**
   * A forwarded call enters flight; the returned release (idempotent) is called when it is
   * answered, refused after this stage, or its exchange ends (`holdCall` / `settleCall`).
   */
  begin(): () => void {
    this.inFlight++
    let done = false
    return () => {
      if (done) return
      done = true
      this.inFlight--
    }
  }
}

/** A weighted call count as the error names it: whole counts as integers, others to three decimals. */
function costText(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000)
}

/** Sets `key` to `value` as the newest entry, dropping the stalest beyond MAX_ENDPOINTS. */
function remember(m: Map<string, number>, key: string, value: number): void {
  m.delete(key)
  m.set(key, value)
  if (m.size > MAX_ENDPOINTS) m.delete(m.keys().next().value as string)
}
