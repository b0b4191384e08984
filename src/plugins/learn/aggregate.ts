import type {DecodedSummary, RecorderEntry} from '../capture/index.js'
import {
  canonicalizePath,
  goToLower,
  goToLowerBytes,
  goToUpper,
  goTrimSpace,
  parseHttpUrl,
  PathCanonicalError,
  toByteString,
} from '../canonical/index.js'
import {capPerHost, normalizeHostPaths, type HostCap, type NormalizationSettings, type PathNormalization} from './normalize.js'

/** Seconds from Go's zero time (0001-01-01) to the Unix epoch: Truncate works from the former. */
const ZERO_TO_UNIX = 62135596800

/** Value → occurrences: exact nearest-rank percentiles without keeping every sample. */
export type SampleCounts = Map<number, number>

/**
 * Most cells (one per distinct raw path, method and action: a quarter of a million at 1M events
 * with ids in paths) see one session, one window and one size: their sets and sample counts stay
 * bare values until a second value arrives (a Set or Map each would cost ≈ 4× the memory).
 */
type IntSet = number | Set<number>

function intSetAdd(s: IntSet, v: number): IntSet {
  if (typeof s !== 'number') return s.add(v)
  return s === v ? s : new Set([s, v])
}

function intSetInto(into: Set<number>, s: IntSet): void {
  if (typeof s === 'number') into.add(s)
  else for (const v of s) into.add(v)
}

/** Sample counts: one value and its count, or a map once a second value is seen. */
interface Tally {
  v: number
  n: number
  more: SampleCounts | undefined
}

function tallyAdd(t: Tally, v: number): void {
  if (t.more !== undefined) addSample(t.more, v)
  else if (t.v === v) t.n++
  else t.more = new Map([[t.v, t.n], [v, 1]])
}

function tallyInto(into: SampleCounts, t: Tally): void {
  if (t.more !== undefined) mergeSamples(into, t.more)
  else into.set(t.v, (into.get(t.v) ?? 0) + t.n)
}

interface Cell {
  host: string
  path: string
  method: string
  action: string
  count: number
  sessions: IntSet
  windows: IntSet
  payload: Tally
  scanner: Tally
}

interface PathNode {
  host: string
  path: string
  /** The node's cells, one per (method, action); a handful at most, so a list. */
  cells: Cell[]
}

export interface RuleAggregate {
  /** Rule key (byte string, §6.1). */
  key: string
  /** Its rule id (§8), once computed. */
  id?: string
  host: string
  path?: string
  method?: string
  action?: string
  observed: number
  opportunities: number
  sessions: number
  windows: number
  /** Method-level keys only (§6.5). */
  payload?: SampleCounts
  scanner?: SampleCounts
  /** Path-level and below, when the path has collapsed positions. */
  normalization?: PathNormalization
  /** [ext, mcp.md §15.6.1] `mcp_tool_call` rules: the server identity and tool name (`host` is ''). */
  server?: string
  tool?: string
}

export interface HostTail extends HostCap {
  host: string
}

export interface AggregateResult {
  total: number
  sessionCount: number
  dropped: number
  malformed: number
  /** Unix seconds of the first window start / last window end; undefined with no events. */
  windowStart?: number
  windowEnd?: number
  actionClasses: Map<string, number>
  rules: RuleAggregate[]
  /** Hosts whose path families overflowed the cap (§15.5), sorted by host. */
  tails: HostTail[]
}

export interface AggregateSettings {
  normalization: NormalizationSettings
  cardinalityCapPerHost: number
  tailPromotionBlockPct: number
  acceptTail: boolean
}

function esc(s: string): string {
  return s.replace(/[%;=]/g, (c) => (c === '%' ? '%25' : c === ';' ? '%3B' : '%3D'))
}

function addSample(m: SampleCounts, v: number): void {
  m.set(v, (m.get(v) ?? 0) + 1)
}

function mergeSamples(into: SampleCounts, from: SampleCounts): void {
  for (const [v, c] of from) into.set(v, (into.get(v) ?? 0) + c)
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f\u0085\u2028\u2029]/
/** UTF-8 of U+0085, U+2028, U+2029 in a byte string. */
const YAML_BREAK_BYTES = /\xc2\x85|\xe2\x80[\xa8\xa9]/

function normalizeMethod(raw: string): string | undefined {
  const m = goToUpper(goTrimSpace(raw))
  return CONTROL.test(m) ? undefined : toByteString(m === '' ? 'UNKNOWN' : m)
}

function normalizeAction(raw: string): string | undefined {
  const a = goToLower(goTrimSpace(raw))
  return CONTROL.test(a) ? undefined : toByteString(a)
}

function normalizeClass(raw: string): string {
  return goToLower(goTrimSpace(raw)) || 'unclassified'
}

/** Why a capture record did not become an event (it is then `malformed`, §5). */
export type RejectReason = 'url' | 'path' | 'method'

/**
 * Aggregation (§5–§6). Events are folded into per-(host, path, method, action) cells as they
 * stream in; `finish` normalises paths, applies the per-host cap and builds the rule keys.
 * Memory grows with distinct cells and sessions, never with the number of events.
 */
export class Aggregator {
  private cells: Cell[] = []
  private finished = false
  private sessionIds = new Map<string, number>()
  private total = 0
  /** HTTP events only: the denominator of host-level rules (MCP calls are not opportunities for a host). */
  private httpTotal = 0
  private dropped = 0
  private malformed = 0
  private windowMin: number | undefined
  private windowMax: number | undefined
  private actionClasses = new Map<string, number>()
  /** [ext §15.6.1] MCP tool calls: server → tool → counts, sessions, windows. */
  private mcp = new Map<string, Map<string, {count: number; sessions: Set<number>; windows: Set<number>}>>()

  constructor(private readonly windowSeconds: number) {}

  /** Session number and window start of one event; widens the observation window. */
  private place(entry: RecorderEntry): {sid: number; window: number} {
    let sid = this.sessionIds.get(entry.sessionId)
    if (sid === undefined) {
      sid = this.sessionIds.size
      this.sessionIds.set(entry.sessionId, sid)
    }
    const abs = entry.epochSeconds + ZERO_TO_UNIX
    const window = abs - (((abs % this.windowSeconds) + this.windowSeconds) % this.windowSeconds) - ZERO_TO_UNIX
    if (this.windowMin === undefined || window < this.windowMin) this.windowMin = window
    if (this.windowMax === undefined || window > this.windowMax) this.windowMax = window
    return {sid, window}
  }

  /**
   * [ext, mcp.md §15.6.1] An MCP tool-call event (`request.mcp_method == "tools/call"` with a tool
   * name and server). Server and tool are byte strings written into the signed YAML, so a line
   * break in either makes the record malformed (as for HTTP paths).
   */
  addMcp(entry: RecorderEntry, s: DecodedSummary): RejectReason | undefined {
    // Byte strings, like every host and path here (rule keys and ids hash the bytes).
    const server = Buffer.from(s.mcpServer, 'utf8').toString('latin1')
    const tool = Buffer.from(s.toolName, 'utf8').toString('latin1')
    if (YAML_BREAK_BYTES.test(server) || YAML_BREAK_BYTES.test(tool) || /[\x00-\x1f\x7f]/.test(server + tool)) {
      this.malformed++
      return 'path'
    }
    const cls = this.normalized(this.classCache, s.actionClass, normalizeClass) as string
    const {sid, window} = this.place(entry)
    let tools = this.mcp.get(server)
    if (tools === undefined) this.mcp.set(server, (tools = new Map()))
    let t = tools.get(tool)
    if (t === undefined) tools.set(tool, (t = {count: 0, sessions: new Set(), windows: new Set()}))
    t.count++
    t.sessions.add(sid)
    t.windows.add(window)
    this.total++
    this.actionClasses.set(cls, (this.actionClasses.get(cls) ?? 0) + 1)
    return undefined
  }

  /** A `capture_drop` entry (§5). */
  addDrop(detail: unknown): void {
    // Go decodes into {Count int}: null or a missing count is zero, a non-integer is an error.
    if (detail === null || detail === undefined) return
    const count = typeof detail === 'object' && !Array.isArray(detail) ? ((detail as Record<string, unknown>).count ?? 0) : undefined
    if (typeof count !== 'number' || !Number.isInteger(count)) {
      this.malformed++
      return
    }
    this.dropped += Math.max(0, count)
  }

  /** A capture whose summary did not normalise. */
  addMalformed(): void {
    this.malformed++
  }

  /** URL → its (host, path) node or the reject reason; bounded so memory stays flat. */
  private urlCache = new Map<string, PathNode | RejectReason>()
  /** (host, canonical path) → cells by method and action; one node per distinct path. */
  private nodes = new Map<string, PathNode>()

  private resolveUrl(raw: string): PathNode | RejectReason {
    let r = this.urlCache.get(raw)
    if (r !== undefined) return r
    const url = parseHttpUrl(raw)
    if (url === undefined) r = 'url'
    else {
      try {
        const host = goToLowerBytes(url.hostname)
        const path = canonicalizePath(url.escapedPath === '' ? '/' : url.escapedPath)
        // Not in the reference: NEL / LS / PS are line breaks to YAML and cannot be written into
        // the signed contract, so such a URL is malformed rather than a compile failure.
        if (YAML_BREAK_BYTES.test(host) || YAML_BREAK_BYTES.test(path)) r = 'path'
        else {
          const key = host + '\0' + path
          r = this.nodes.get(key)
          if (r === undefined) this.nodes.set(key, (r = {host, path, cells: []}))
        }
      } catch (e) {
        if (!(e instanceof PathCanonicalError)) throw e
        r = 'path'
      }
    }
    if (this.urlCache.size >= 50_000) this.urlCache.clear()
    this.urlCache.set(raw, r)
    return r
  }

  private methodCache = new Map<string, string | undefined>()
  private actionCache = new Map<string, string | undefined>()
  private classCache = new Map<string, string | undefined>()

  /** Small bounded memo: methods, actions and classes repeat on nearly every event. */
  private normalized(cache: Map<string, string | undefined>, raw: string, fn: (s: string) => string | undefined): string | undefined {
    const hit = cache.get(raw)
    if (hit !== undefined || cache.has(raw)) return hit
    const v = fn(raw)
    if (cache.size >= 10_000) cache.clear()
    cache.set(raw, v)
    return v
  }

  addCapture(entry: RecorderEntry, s: DecodedSummary): RejectReason | undefined {
    const resolved = this.resolveUrl(s.url)
    if (typeof resolved === 'string') {
      this.malformed++
      return resolved
    }
    const node = resolved
    const method = this.normalized(this.methodCache, s.method, normalizeMethod)
    const action = this.normalized(this.actionCache, s.effectiveAction, normalizeAction)
    // Not in the reference: a line break or control character in a method or action could not
    // be written into the signed YAML, so such a record is malformed instead of failing compile.
    if (method === undefined || action === undefined) {
      this.malformed++
      return 'method'
    }
    const cls = this.normalized(this.classCache, s.actionClass, normalizeClass) as string
    const {sid, window} = this.place(entry)

    const payload = Math.max(0, s.payloadBytes)
    const scanner = Math.max(0, s.scannerBytes)
    let cell: Cell | undefined
    for (const c of node.cells) {
      if (c.method === method && c.action === action) {
        cell = c
        break
      }
    }
    if (cell === undefined) {
      cell = {host: node.host, path: node.path, method, action, count: 1, sessions: sid, windows: window, payload: {v: payload, n: 1, more: undefined}, scanner: {v: scanner, n: 1, more: undefined}}
      node.cells.push(cell)
      this.cells.push(cell)
    } else {
      cell.count++
      cell.sessions = intSetAdd(cell.sessions, sid)
      cell.windows = intSetAdd(cell.windows, window)
      tallyAdd(cell.payload, payload)
      tallyAdd(cell.scanner, scanner)
    }
    this.total++
    this.httpTotal++
    this.actionClasses.set(cls, (this.actionClasses.get(cls) ?? 0) + 1)
    return undefined
  }

  get eventCount(): number {
    return this.total
  }

  /**
   * The aggregate result. Finishing hands the cells over and releases them (and the caches), so
   * the contract is built without the per-path state alive; an Aggregator is finished once.
   */
  finish(settings: AggregateSettings): AggregateResult {
    if (this.finished) throw new Error('Aggregator.finish called twice')
    this.finished = true
    const cells = this.cells
    this.cells = []
    this.nodes.clear()
    this.urlCache.clear()
    // 1. path families per host, normalised, then capped.
    const families = new Map<string, Map<string, number>>()
    for (const c of cells) {
      let f = families.get(c.host)
      if (f === undefined) families.set(c.host, (f = new Map()))
      f.set(c.path, (f.get(c.path) ?? 0) + c.count)
    }
    const mapping = new Map<string, Map<string, string>>()
    const evidence = new Map<string, Map<string, PathNormalization>>()
    const keptFamilies = new Map<string, Set<string>>()
    const tails: HostTail[] = []
    for (const host of [...families.keys()].sort()) {
      const norm = normalizeHostPaths(families.get(host) as Map<string, number>, settings.normalization)
      mapping.set(host, norm.mapping)
      evidence.set(host, norm.evidence)
      const normalized = new Map<string, number>()
      for (const [p, n] of families.get(host) as Map<string, number>) {
        const q = norm.mapping.get(p) as string
        normalized.set(q, (normalized.get(q) ?? 0) + n)
      }
      const cap = capPerHost(normalized, settings.cardinalityCapPerHost, settings.tailPromotionBlockPct, settings.acceptTail)
      keptFamilies.set(host, new Set(cap.kept.keys()))
      if (cap.overflowed) tails.push({host, ...cap})
    }

    // 2. rule keys (§6.1–6.3) from the cells.
    interface Acc {
      agg: RuleAggregate
      sessions: Set<number>
      windows: Set<number>
    }
    const acc = new Map<string, Acc>()
    const touch = (key: string, init: () => RuleAggregate, c: Cell): Acc => {
      let a = acc.get(key)
      if (a === undefined) acc.set(key, (a = {agg: init(), sessions: new Set(), windows: new Set()}))
      a.agg.observed += c.count
      intSetInto(a.sessions, c.sessions)
      intSetInto(a.windows, c.windows)
      return a
    }
    const hostEvents = new Map<string, number>()
    const pathEvents = new Map<string, number>()
    const methodEvents = new Map<string, number>()
    for (const c of cells) {
      const hostKey = 'host=' + esc(c.host)
      touch(hostKey, () => ({key: hostKey, host: c.host, observed: 0, opportunities: 0, sessions: 0, windows: 0}), c)
      hostEvents.set(hostKey, (hostEvents.get(hostKey) ?? 0) + c.count)
      const path = (mapping.get(c.host) as Map<string, string>).get(c.path) as string
      if (!(keptFamilies.get(c.host) as Set<string>).has(path)) continue // in the `_other` tail
      const normalization = (evidence.get(c.host) as Map<string, PathNormalization>).get(path)
      const pathKey = hostKey + ';path=' + esc(path)
      touch(pathKey, () => ({key: pathKey, host: c.host, path, observed: 0, opportunities: 0, sessions: 0, windows: 0, ...(normalization ? {normalization} : {})}), c)
      pathEvents.set(pathKey, (pathEvents.get(pathKey) ?? 0) + c.count)
      const methodKey = pathKey + ';method=' + esc(c.method)
      const m = touch(
        methodKey,
        () => ({key: methodKey, host: c.host, path, method: c.method, observed: 0, opportunities: 0, sessions: 0, windows: 0, payload: new Map(), scanner: new Map(), ...(normalization ? {normalization} : {})}),
        c,
      )
      tallyInto(m.agg.payload as SampleCounts, c.payload)
      tallyInto(m.agg.scanner as SampleCounts, c.scanner)
      methodEvents.set(methodKey, (methodEvents.get(methodKey) ?? 0) + c.count)
      if (c.action !== '') {
        const actionKey = methodKey + ';action=' + esc(c.action)
        touch(actionKey, () => ({key: actionKey, host: c.host, path, method: c.method, action: c.action, observed: 0, opportunities: 0, sessions: 0, windows: 0, ...(normalization ? {normalization} : {})}), c)
      }
    }
    // Byte strings: plain comparison is UTF-8 byte order (§6.6).
    const keys = [...acc.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    const rules: RuleAggregate[] = keys.map((k) => {
      const a = acc.get(k) as Acc
      const r = a.agg
      r.sessions = a.sessions.size
      r.windows = a.windows.size
      // §6.3 conditional-on-opportunity denominators.
      if (r.action !== undefined) r.opportunities = methodEvents.get(k.slice(0, k.lastIndexOf(';action='))) as number
      else if (r.method !== undefined) r.opportunities = pathEvents.get(k.slice(0, k.lastIndexOf(';method='))) as number
      else if (r.path !== undefined) r.opportunities = hostEvents.get(k.slice(0, k.lastIndexOf(';path='))) as number
      else r.opportunities = this.httpTotal
      return r
    })
    // [ext §15.6.1] mcp_tool_call rules: `mcp_server=…;tool=…` keys sort after every `host=…` key.
    const mcpRules: RuleAggregate[] = []
    for (const [server, tools] of this.mcp) {
      let serverEvents = 0
      for (const t of tools.values()) serverEvents += t.count
      for (const [tool, t] of tools) {
        mcpRules.push({key: `mcp_server=${esc(server)};tool=${esc(tool)}`, host: '', server, tool, observed: t.count, opportunities: serverEvents, sessions: t.sessions.size, windows: t.windows.size})
      }
    }
    mcpRules.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    rules.push(...mcpRules)
    this.mcp.clear()
    return {
      total: this.total,
      sessionCount: this.sessionIds.size,
      dropped: this.dropped,
      malformed: this.malformed,
      ...(this.windowMin === undefined ? {} : {windowStart: this.windowMin, windowEnd: (this.windowMax as number) + this.windowSeconds}),
      actionClasses: this.actionClasses,
      rules,
      tails,
    }
  }
}
