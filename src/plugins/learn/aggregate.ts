import type {DecodedSummary, RecorderEntry} from '../capture/index.js'
import {
  canonicalizePath,
  compareUtf8,
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
import {CellStore, type SampleCounts} from './cell-store.js'
import {budgetStats, type BudgetStats} from './inference.js'
import {capPerHost, normalizeHostPaths, type HostCap, type NormalizationSettings, type PathNormalization} from './normalize.js'

/** Seconds from Go's zero time (0001-01-01) to the Unix epoch: Truncate works from the former. */
const ZERO_TO_UNIX = 62135596800

export type {SampleCounts} from './cell-store.js'

/** One rule key's aggregate while its host is finished; `parent` gives its opportunities. */
interface Acc {
  agg: RuleAggregate
  parent: Acc | undefined
  /** The first cell folded in; its sessions and windows are the rule's until a second cell comes. */
  first: number
  sessions: Set<number> | undefined
  windows: Set<number> | undefined
  /** Method-level keys: the size samples behind `agg.budgets`. */
  payload: SampleCounts | undefined
  scanner: SampleCounts | undefined
  /** Path-level: its method keys by method number; method-level: its action keys by action number. */
  children: Map<number, Acc> | undefined
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
export type EventPlace = Pick<RecorderEntry, 'sessionId' | 'epochSeconds' | 'hash'>

/** The seed of the node table's hash: from the first event's entry hash, a pure function of the input that the traffic in it cannot choose. */
function hashSeed(entryHash: string): number {
  return Number.parseInt(entryHash.slice(0, 8), 16) | 0
}

/** Why a capture record did not become an event (it is then `malformed`, §5). */
export type RejectReason = 'url' | 'path' | 'method'

/**
 * Aggregation (§5–§6). Events are folded into per-(host, path, method, action) cells as they
 * stream in; `finish` normalises paths, applies the per-host cap and builds the rule keys.
 * Memory grows with distinct cells and sessions, never with the number of events.
 */
export class Aggregator {
  /** The nodes (one per distinct host and path) and their cells; made at the first event, whose hash seeds its table. */
  private store: CellStore | undefined
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

  /** The session id seen last and its number: a capture file is one session's, line after line. */
  private lastSessionId = ''
  private lastSid = -1

  /** Session number of one event. */
  private session(entry: EventPlace): number {
    if (this.lastSid >= 0 && entry.sessionId === this.lastSessionId) return this.lastSid
    // A copy: the id may be a slice of the capture text (decodeWriterCapture), kept alive with it.
    const own = copyString(entry.sessionId)
    let sid = this.sessionIds.get(own)
    if (sid === undefined) {
      sid = this.sessionIds.size
      this.sessionIds.set(own, sid)
    }
    this.lastSessionId = own
    this.lastSid = sid
    return sid
  }

  /** Window start of one event; widens the observation window. */
  private window(entry: EventPlace): number {
    const abs = entry.epochSeconds + ZERO_TO_UNIX
    const window = abs - (((abs % this.windowSeconds) + this.windowSeconds) % this.windowSeconds) - ZERO_TO_UNIX
    if (this.windowMin === undefined || window < this.windowMin) this.windowMin = window
    if (this.windowMax === undefined || window > this.windowMax) this.windowMax = window
    return window
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
    const sid = this.session(entry)
    const window = this.window(entry)
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

  /**
   * A URL that is not plain → its node, or the reject reason (`URL_REJECT`, `PATH_REJECT`): the
   * general parse is the costly part there. Bounded so memory stays flat.
   */
  private urlCache = new Map<string, number>()

  private resolveUrl(store: CellStore, raw: string): number {
    // Most URLs are plain (no escapes, userinfo or fragment): their host and canonical path are
    // read off the text without parsing it (plainUrlHostPath; bench: compile).
    const plain = plainUrlHostPath(raw)
    if (plain !== undefined) return store.node(plain[0], plain[1])
    let r = this.urlCache.get(raw)
    if (r !== undefined) return r
    const url = parseHttpUrl(raw)
    if (url === undefined) r = URL_REJECT
    else {
      try {
        const host = goToLowerBytes(url.hostname)
        const path = canonicalizePath(url.escapedPath === '' ? '/' : url.escapedPath)
        // Not in the reference: NEL / LS / PS are line breaks to YAML and cannot be written into
        // the signed contract, so such a URL is malformed rather than a compile failure.
        r = YAML_BREAK_BYTES.test(host) || YAML_BREAK_BYTES.test(path) ? PATH_REJECT : store.node(host, path)
      } catch (e) {
        if (!(e instanceof PathCanonicalError)) throw e
        r = PATH_REJECT
      }
    }
    // A path seen for the first time: most are ids, hashes and uuids never seen again, so its
    // URL is not memoised (the memo keeps the URLs that repeat: a second sighting).
    if (r >= 0 && store.created) return r
    if (this.urlCache.size >= 50_000) this.urlCache.clear()
    // Keys are copies: a URL may be a slice of the capture text (see `session`).
    this.urlCache.set(copyString(raw), r)
    return r
  }

  /** Methods and actions, normalised, by number (a cell holds their numbers); `-1` is not writable. */
  private methods = new Interned(normalizeMethod)
  private actions = new Interned(normalizeAction)
  private classCache = new Map<string, string | undefined>()

  /** Small bounded memo: classes repeat on nearly every event. */
  private normalized(cache: Map<string, string | undefined>, raw: string, fn: (s: string) => string | undefined): string | undefined {
    const hit = cache.get(raw)
    if (hit !== undefined || cache.has(raw)) return hit
    const v = fn(raw)
    if (cache.size >= 10_000) cache.clear()
    cache.set(copyString(raw), v)
    return v
  }

  addCapture(entry: EventPlace, s: DecodedSummary): RejectReason | undefined {
    const store = (this.store ??= new CellStore(hashSeed(entry.hash)))
    const node = this.resolveUrl(store, s.url)
    if (node < 0) {
      this.malformed++
      return node === URL_REJECT ? 'url' : 'path'
    }
    const method = this.methods.id(s.method)
    const action = this.actions.id(s.effectiveAction)
    // Not in the reference: a line break or control character in a method or action could not
    // be written into the signed YAML, so such a record is malformed instead of failing compile.
    if (method < 0 || action < 0) {
      this.malformed++
      return 'method'
    }
    const cls = this.normalized(this.classCache, s.actionClass, normalizeClass) as string
    store.fold(node, method, action, this.session(entry), this.window(entry), Math.max(0, s.payloadBytes), Math.max(0, s.scannerBytes))
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
    this.urlCache.clear()
    const store = this.store
    this.store = undefined
    // Host by host (issue 36): a host's paths are normalised, capped and turned into rule
    // aggregates, then its path families and working maps are dropped before the next host.
    const tails: HostTail[] = []
    const rules: RuleAggregate[] = []
    // No store: no HTTP event was folded (MCP calls only).
    const cs = store ?? new CellStore(0)
    const {start, order} = cs.nodesByHost()
    const hostNumbers = Array.from({length: cs.hostCount}, (_, i) => i).sort((a, b) => compareUtf8(cs.hostName(a), cs.hostName(b)))
    for (const hostNo of hostNumbers) {
      const host = cs.hostName(hostNo)
      // 1. the host's paths (in the order first seen) and their events, normalised, then capped (§15).
      const paths: string[] = []
      const nodes: number[] = []
      const events: number[] = []
      let hostEvents = 0
      for (let i = start[hostNo] as number; i < (start[hostNo + 1] as number); i++) {
        const node = order[i] as number
        let n = 0
        for (let c = cs.firstCell(node); c >= 0; c = cs.nextCell(c)) n += cs.count(c)
        if (n === 0) continue
        paths.push(cs.path(node))
        nodes.push(node)
        events.push(n)
        hostEvents += n
      }
      if (paths.length === 0) continue
      // A host with fewer distinct paths than a collapse needs, or fewer events, keeps every path
      // as it is (§15.3: no position can collapse), and within the cap keeps them all: neither is
      // worked out path by path (most of the realistic corpus's 10,000 hosts; bench: compile).
      const norm =
        paths.length < settings.normalization.minDistinctValues || hostEvents < settings.normalization.minEvents
          ? undefined
          : normalizeHostPaths(new Map(paths.map((p, i) => [p, events[i] as number])), settings.normalization)
      const patterns = norm === undefined ? paths : paths.map((p) => norm.mapping.get(p) as string)
      let kept: ReadonlyMap<string, number> | undefined
      if (norm !== undefined || paths.length > settings.cardinalityCapPerHost) {
        const normalized = new Map<string, number>()
        for (let i = 0; i < patterns.length; i++) {
          const q = patterns[i] as string
          normalized.set(q, (normalized.get(q) ?? 0) + (events[i] as number))
        }
        const cap = capPerHost(normalized, settings.cardinalityCapPerHost, settings.tailPromotionBlockPct, settings.acceptTail)
        if (cap.overflowed) tails.push({host, ...cap})
        kept = cap.kept
      }
      // 2. rule keys (§6.1–6.3) from the host's cells, each key made once (a collapsed pattern
      //    gathers many paths); a rule's opportunities are its parent rule's events
      //    (host → path → method → action), the host's are every HTTP event.
      const accs: Acc[] = []
      const acc = (agg: RuleAggregate, parent: Acc | undefined): Acc => {
        const a: Acc = {agg, parent, first: -1, sessions: undefined, windows: undefined, payload: undefined, scanner: undefined, children: undefined}
        accs.push(a)
        return a
      }
      const hostKey = 'host=' + esc(host)
      const h = acc({key: hostKey, host, observed: 0, opportunities: this.httpTotal, sessions: 0, windows: 0}, undefined)
      const byPattern = new Map<string, Acc>()
      for (let i = 0; i < paths.length; i++) {
        const path = patterns[i] as string
        let p: Acc | undefined
        if (kept === undefined || kept.has(path)) {
          // (otherwise in the `_other` tail)
          p = byPattern.get(path)
          if (p === undefined) {
            const agg: RuleAggregate = {key: hostKey + ';path=' + esc(path), host, path, observed: 0, opportunities: 0, sessions: 0, windows: 0}
            const normalization = norm?.evidence.get(path)
            if (normalization !== undefined) agg.normalization = normalization
            byPattern.set(path, (p = acc(agg, h)))
          }
        }
        for (let c = cs.firstCell(nodes[i] as number); c >= 0; c = cs.nextCell(c)) {
          touch(cs, h, c)
          if (p === undefined) continue
          touch(cs, p, c)
          const methodNo = cs.method(c)
          let m = (p.children ??= new Map()).get(methodNo)
          if (m === undefined) {
            const method = this.methods.value(methodNo)
            const agg: RuleAggregate = {key: p.agg.key + ';method=' + esc(method), host, path, method, observed: 0, opportunities: 0, sessions: 0, windows: 0}
            if (p.agg.normalization !== undefined) agg.normalization = p.agg.normalization
            p.children.set(methodNo, (m = acc(agg, p)))
            m.payload = new Map()
            m.scanner = new Map()
          }
          touch(cs, m, c)
          cs.samplesInto(c, m.payload as SampleCounts, m.scanner as SampleCounts)
          const actionNo = cs.action(c)
          const action = this.actions.value(actionNo)
          if (action === '') continue
          let x = (m.children ??= new Map()).get(actionNo)
          if (x === undefined) {
            const agg: RuleAggregate = {key: m.agg.key + ';action=' + esc(action), host, path, method: m.agg.method as string, action, observed: 0, opportunities: 0, sessions: 0, windows: 0}
            if (p.agg.normalization !== undefined) agg.normalization = p.agg.normalization
            m.children.set(actionNo, (x = acc(agg, m)))
          }
          touch(cs, x, c)
        }
      }
      for (const a of accs) {
        const r = a.agg
        r.sessions = a.sessions === undefined ? cs.sessionCount(a.first) : a.sessions.size
        r.windows = a.windows === undefined ? cs.windowCount(a.first) : a.windows.size
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

/** `resolveUrl`'s answers for a URL that is not an event: no http(s) URL, or a path that cannot be canonicalised or written. */
const URL_REJECT = -1
const PATH_REJECT = -2

/** Adds cell `c` to a rule's events, sessions and windows. */
function touch(store: CellStore, a: Acc, c: number): void {
  a.agg.observed += store.count(c)
  if (a.first < 0) {
    a.first = c
    return
  }
  if (a.sessions === undefined || a.windows === undefined) store.placesInto(a.first, (a.sessions = new Set()), (a.windows = new Set()))
  store.placesInto(c, a.sessions, a.windows)
}

/**
 * Raw values (methods, actions) → the number of their normalised form, with a small bounded memo
 * of raw values (they repeat on nearly every event); -1 for a value that normalises to nothing.
 * Two raw spellings of one method share its number, so they share a cell.
 */
class Interned {
  private memo = new Map<string, number>()
  private numbers = new Map<string, number>()
  private values: string[] = []
  /** The raw value seen last and its number (nearly every event is a GET with the same action). */
  private lastRaw = ''
  private lastId = -2

  constructor(private readonly normalize: (raw: string) => string | undefined) {}

  id(raw: string): number {
    if (raw === this.lastRaw && this.lastId !== -2) return this.lastId
    const n = this.lookUp(raw)
    this.lastRaw = copyString(raw)
    this.lastId = n
    return n
  }

  private lookUp(raw: string): number {
    const hit = this.memo.get(raw)
    if (hit !== undefined) return hit
    const v = this.normalize(raw)
    let n = -1
    if (v !== undefined) {
      const known = this.numbers.get(v)
      if (known === undefined) {
        n = this.values.length
        this.values.push(v)
        this.numbers.set(v, n)
      } else n = known
    }
    if (this.memo.size >= 10_000) this.memo.clear()
    this.memo.set(copyString(raw), n)
    return n
  }

  value(n: number): string {
    return this.values[n] as string
  }
}
