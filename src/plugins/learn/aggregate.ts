import type {DecodedSummary, RecorderEntry} from '../capture/index.js'
import {
  canonicalizePath,
  copyString,
  goToLower,
  goToLowerBytes,
  goToUpper,
  goTrimSpace,
  parseHttpUrl,
  PathCanonicalError,
  plainUrlHostPath,
  toByteString,
} from '../canonical/index.js'
import {budgetStats, type BudgetStats} from './inference.js'
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

/** `a ∪ b`; `a` may be updated in place, `b` (a cell's set) never is. */
function intSetUnion(a: IntSet, b: IntSet): IntSet {
  if (typeof b === 'number') return intSetAdd(a, b)
  const out = typeof a === 'number' ? new Set([a]) : a
  for (const v of b) out.add(v)
  return out
}

function intSetCopy(s: IntSet): IntSet {
  return typeof s === 'number' ? s : new Set(s)
}

function intSetSize(s: IntSet): number {
  return typeof s === 'number' ? 1 : s.size
}

/** One rule key's aggregate while a host is finished; `parent` gives its opportunities. */
interface Acc {
  agg: RuleAggregate
  sessions: IntSet
  windows: IntSet
  parent: Acc | undefined
  /** Method-level keys: the size samples behind `agg.budgets`. */
  payload?: SampleCounts
  scanner?: SampleCounts
}

/**
 * Sample counts of one cell: one value and its count (`v`, `n`), or a map once a second value is
 * seen (`more`). Kept as fields of the cell (p… payload, s… scanner), not objects of their own:
 * a cell per distinct raw path is most of compile's memory (issue 36).
 */
function tallyAdd(more: SampleCounts | undefined, v0: number, v: number): SampleCounts | undefined | 'same' {
  if (more !== undefined) {
    addSample(more, v)
    return more
  }
  return v0 === v ? 'same' : undefined
}

function tallyInto(into: SampleCounts, v: number, n: number, more: SampleCounts | undefined): void {
  if (more !== undefined) mergeSamples(into, more)
  else into.set(v, (into.get(v) ?? 0) + n)
}

interface Cell {
  host: string
  path: string
  method: string
  action: string
  count: number
  sessions: IntSet
  windows: IntSet
  pv: number
  pn: number
  pmore: SampleCounts | undefined
  sv: number
  sn: number
  smore: SampleCounts | undefined
  /** The next cell of the same (host, path): a handful at most, so a chain, not a list. */
  next: Cell | undefined
}

interface PathNode {
  host: string
  path: string
  /** The node's cells, one per (method, action), chained through `next`. */
  first: Cell | undefined
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
  /**
   * Method-level keys only (§6.5): the payload and scanner size budgets (§7.5), computed once
   * when the host is finished; the value → count samples they are computed from are dropped then.
   */
  budgets?: readonly [payload: BudgetStats, scanner: BudgetStats]
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

/** Where an event belongs: its session and time (a decoded entry, or a writer-layout capture line). */
export type EventPlace = Pick<RecorderEntry, 'sessionId' | 'epochSeconds'>

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
  private place(entry: EventPlace): {sid: number; window: number} {
    let sid = this.sessionIds.get(entry.sessionId)
    if (sid === undefined) {
      sid = this.sessionIds.size
      // A copy: the id may be a slice of the capture text (decodeWriterCapture), kept alive with it.
      this.sessionIds.set(copyString(entry.sessionId), sid)
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
  addMcp(entry: EventPlace, s: DecodedSummary): RejectReason | undefined {
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
  /** host → its own copy of the host and canonical path → its cells; one node per distinct path (keyed by the node's own strings). */
  private nodes = new Map<string, {host: string; paths: Map<string, PathNode>}>()

  private resolveUrl(raw: string): PathNode | RejectReason {
    let r = this.urlCache.get(raw)
    if (r !== undefined) return r
    this.created = undefined
    // Most URLs are plain (no escapes, userinfo or fragment): their host and canonical path are
    // read off the text without parsing it (plainUrlHostPath; bench: compile).
    const plain = plainUrlHostPath(raw)
    if (plain !== undefined) r = this.pathNode(plain[0], plain[1])
    else {
      const url = parseHttpUrl(raw)
      if (url === undefined) r = 'url'
      else {
        try {
          const host = goToLowerBytes(url.hostname)
          const path = canonicalizePath(url.escapedPath === '' ? '/' : url.escapedPath)
          // Not in the reference: NEL / LS / PS are line breaks to YAML and cannot be written into
          // the signed contract, so such a URL is malformed rather than a compile failure.
          r = YAML_BREAK_BYTES.test(host) || YAML_BREAK_BYTES.test(path) ? 'path' : this.pathNode(host, path)
        } catch (e) {
          if (!(e instanceof PathCanonicalError)) throw e
          r = 'path'
        }
      }
    }
    // A path seen for the first time: most are ids, hashes and uuids never seen again, so its
    // URL is not memoised (the memo keeps the URLs that repeat: a second sighting).
    if (r === this.created) return r
    if (this.urlCache.size >= 50_000) this.urlCache.clear()
    // Keys are copies: a URL may be a slice of the capture text (see `place`).
    this.urlCache.set(copyString(raw), r)
    return r
  }

  /** The node `pathNode` created last (a path's first sighting). */
  private created: PathNode | undefined

  /**
   * The node of (host, path), created on the first sighting. Own copies of what is kept: a slice
   * of the URL would keep the whole URL text alive with the node, and the URL may itself be a
   * slice of a read chunk's text.
   */
  private pathNode(host: string, path: string): PathNode {
    let h = this.nodes.get(host)
    if (h === undefined) {
      const own = copyString(host)
      this.nodes.set(own, (h = {host: own, paths: new Map()}))
    }
    let node = h.paths.get(path)
    if (node === undefined) {
      const own = copyString(path)
      h.paths.set(own, (node = {host: h.host, path: own, first: undefined}))
      this.created = node
    }
    return node
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
    cache.set(copyString(raw), v)
    return v
  }

  addCapture(entry: EventPlace, s: DecodedSummary): RejectReason | undefined {
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
    let cell = node.first
    let last: Cell | undefined
    while (cell !== undefined && !(cell.method === method && cell.action === action)) {
      last = cell
      cell = cell.next
    }
    if (cell === undefined) {
      cell = {host: node.host, path: node.path, method, action, count: 1, sessions: sid, windows: window, pv: payload, pn: 1, pmore: undefined, sv: scanner, sn: 1, smore: undefined, next: undefined}
      if (last === undefined) node.first = cell
      else last.next = cell
      this.cells.push(cell)
    } else {
      cell.count++
      cell.sessions = intSetAdd(cell.sessions, sid)
      cell.windows = intSetAdd(cell.windows, window)
      const p = tallyAdd(cell.pmore, cell.pv, payload)
      if (p === 'same') cell.pn++
      else if (p === undefined) cell.pmore = new Map([[cell.pv, cell.pn], [payload, 1]])
      const q = tallyAdd(cell.smore, cell.sv, scanner)
      if (q === 'same') cell.sn++
      else if (q === undefined) cell.smore = new Map([[cell.sv, cell.sn], [scanner, 1]])
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
    this.nodes.clear()
    this.urlCache.clear()
    // Host by host (issue 36): a host's paths are normalised, capped and turned into rule
    // aggregates, then its cells, path families and working maps are dropped before the next
    // host, so the peak is the cells plus one host's work, not every host's at once.
    const byHost = new Map<string, Cell[]>()
    for (const c of this.cells) {
      const list = byHost.get(c.host)
      if (list === undefined) byHost.set(c.host, [c])
      else list.push(c)
    }
    this.cells = []
    const tails: HostTail[] = []
    const rules: RuleAggregate[] = []
    for (const host of [...byHost.keys()].sort()) {
      const cells = byHost.get(host) as Cell[]
      byHost.delete(host)
      // 1. the host's path families, normalised, then capped (§15).
      const family = new Map<string, number>()
      for (const c of cells) family.set(c.path, (family.get(c.path) ?? 0) + c.count)
      const norm = normalizeHostPaths(family, settings.normalization)
      const normalized = new Map<string, number>()
      for (const [p, n] of family) {
        const q = norm.mapping.get(p) as string
        normalized.set(q, (normalized.get(q) ?? 0) + n)
      }
      family.clear()
      const cap = capPerHost(normalized, settings.cardinalityCapPerHost, settings.tailPromotionBlockPct, settings.acceptTail)
      if (cap.overflowed) tails.push({host, ...cap})
      // 2. rule keys (§6.1–6.3) from the host's cells; a rule's opportunities are its parent
      //    rule's events (host → path → method → action), the host's are every HTTP event.
      const acc = new Map<string, Acc>()
      const touch = (key: string, init: () => RuleAggregate, c: Cell, parent: Acc | undefined): Acc => {
        let a = acc.get(key)
        if (a === undefined) acc.set(key, (a = {agg: init(), sessions: intSetCopy(c.sessions), windows: intSetCopy(c.windows), parent}))
        else {
          a.sessions = intSetUnion(a.sessions, c.sessions)
          a.windows = intSetUnion(a.windows, c.windows)
        }
        a.agg.observed += c.count
        return a
      }
      const hostKey = 'host=' + esc(host)
      for (const c of cells) {
        const h = touch(hostKey, () => ({key: hostKey, host, observed: 0, opportunities: this.httpTotal, sessions: 0, windows: 0}), c, undefined)
        const path = norm.mapping.get(c.path) as string
        if (!cap.kept.has(path)) continue // in the `_other` tail
        const normalization = norm.evidence.get(path)
        const pathKey = hostKey + ';path=' + esc(path)
        const p = touch(pathKey, () => ({key: pathKey, host, path, observed: 0, opportunities: 0, sessions: 0, windows: 0, ...(normalization ? {normalization} : {})}), c, h)
        const methodKey = pathKey + ';method=' + esc(c.method)
        const m = touch(
          methodKey,
          () => ({key: methodKey, host, path, method: c.method, observed: 0, opportunities: 0, sessions: 0, windows: 0, ...(normalization ? {normalization} : {})}),
          c,
          p,
        )
        tallyInto((m.payload ??= new Map()), c.pv, c.pn, c.pmore)
        tallyInto((m.scanner ??= new Map()), c.sv, c.sn, c.smore)
        if (c.action !== '') {
          const actionKey = methodKey + ';action=' + esc(c.action)
          touch(actionKey, () => ({key: actionKey, host, path, method: c.method, action: c.action, observed: 0, opportunities: 0, sessions: 0, windows: 0, ...(normalization ? {normalization} : {})}), c, m)
        }
      }
      for (const a of acc.values()) {
        const r = a.agg
        r.sessions = intSetSize(a.sessions)
        r.windows = intSetSize(a.windows)
        if (a.parent !== undefined) r.opportunities = a.parent.agg.observed
        if (a.payload !== undefined && a.scanner !== undefined) r.budgets = [budgetStats(a.payload), budgetStats(a.scanner)]
        rules.push(r)
      }
    }
    // Byte strings: plain comparison is UTF-8 byte order (§6.6).
    rules.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
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
