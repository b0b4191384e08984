import type {JsonObject} from '../canonical/index.js'
import {LIFECYCLE_STATES} from '../contracts/index.js'
import {HTTP_RULE_KINDS, httpSelector, interner, MCP_RULE_KIND, mcpArgsMatcher, obj, ruleHost, rulesOf, str, type HttpSelector, type McpArgsMatcher} from './rule-match.js'

// The contract read once, for the evaluator (bench: shadow; walking every rule for every event made
// `learn shadow` spend 72.6% of its time in evaluateHttp). The index is a pure function of the
// contract body; evaluation against it gives exactly the decision of the rule-by-rule walk of
// §7.6, in O(rules for the request's host). Build it once per contract (`indexContract`), then
// evaluate any number of requests against it.
//
// The index keeps only what evaluation reads, never a part of the decoded tree: rule ids, hosts,
// paths, methods and actions as interned copies (not slices of the contract text), selectors as
// plain objects and arrays, MCP argument matchers read once. So a caller may drop the tree once
// the index is built (`compactContract`): `learn shadow` holds 18,643 rules in a few MB instead
// of the ≈ 90 MB tree (bench: shadow).

const LIFECYCLE_SET: ReadonlySet<string> = new Set(LIFECYCLE_STATES)

/** One enforce HTTP rule: its place in the contract and its selector, read once. */
export interface IndexedHttpRule {
  /** Index in `body.rules`: the walk's order. */
  readonly position: number
  readonly id: string
  readonly selector: HttpSelector
}

/** A host's enforce HTTP rules, in contract order, plus a lookup by literal path. */
export interface HostRules {
  readonly all: readonly IndexedHttpRule[]
  /** Rules whose every path is a literal, under each of their paths. */
  readonly byPath: ReadonlyMap<string, readonly IndexedHttpRule[]>
  /** Rules that can match any canonical path: no path constraint, or a collapsed segment. */
  readonly open: readonly IndexedHttpRule[]
}

export interface ContractIndex {
  /** Normalised host → its enforce HTTP rules. */
  readonly httpByHost: ReadonlyMap<string, HostRules>
  /** Whether any enforce HTTP rule exists (then unmatched requests are denied by default). */
  readonly hasEnforceHttp: boolean
  /**
   * Normalised host → its `capture_only` HTTP rules. They never decide; a default deny only
   * names the one that would have matched, so a report can say why ratifying a rule
   * capture-only made its traffic unreachable.
   */
  readonly captureOnlyByHost: ReadonlyMap<string, HostRules>
  /**
   * The first HTTP rule whose `lifecycle_state` is unsupported. The walk throws when it reaches
   * it, so an evaluation that would decide at a later position (or not at all) throws too.
   */
  readonly invalidHttp?: {readonly position: number; readonly message: string}
  /** Enforce `mcp_tool_call` rules under `server + "\0" + tool`, in contract order (§7.7). */
  readonly mcpByServerTool: ReadonlyMap<string, readonly IndexedMcpRule[]>
  /** Whether any enforce MCP rule exists (then an unlisted tool is denied by default). */
  readonly hasEnforceMcp: boolean
  /** The first MCP rule whose `lifecycle_state` is unsupported (the walk throws on reaching it). */
  readonly invalidMcp?: {readonly position: number; readonly message: string}
}

/** One enforce MCP rule with both selector values set (a rule missing one never matches). */
export interface IndexedMcpRule {
  readonly position: number
  readonly id: string
  readonly args: McpArgsMatcher
}

/** The index key of a server and tool (both exact, case-sensitive). */
export function mcpKey(server: string, tool: string): string {
  return server + '\0' + tool
}

/** Why a rule's `lifecycle_state` is unusable, or undefined when it is a known state. */
export function lifecycleProblem(rule: JsonObject): string | undefined {
  const v = rule.get('lifecycle_state')
  const state = typeof v === 'string' ? v : ''
  return LIFECYCLE_SET.has(state) ? undefined : `contract: unsupported lifecycle_state: ${JSON.stringify(state)}`
}

interface MutableHostRules {
  all: IndexedHttpRule[]
  byPath: Map<string, IndexedHttpRule[]>
  open: IndexedHttpRule[]
}

/** Reads the contract's rules once (see the file comment). */
export function indexContract(body: JsonObject): ContractIndex {
  const b = contractIndexBuilder()
  rulesOf(body).forEach((rule, position) => b.add(rule, position))
  return b.finish()
}

/** Builds a `ContractIndex` one rule at a time, for a caller that reads the rules as a stream. */
export interface ContractIndexBuilder {
  /** Adds `rule`, the contract's rule number `position` (rules must come in order). */
  add(rule: JsonObject, position: number): void
  finish(): ContractIndex
  /**
   * False when the builder was made `withoutCaptureOnly` and an enforce HTTP rule came: the
   * capture-only rules it skipped are then part of the index, and `finish()` is not it.
   */
  complete(): boolean
}

/**
 * `withoutCaptureOnly`: for a contract expected to hold no enforce HTTP rule (a freshly compiled
 * candidate: every rule `capture_only`). Its capture-only rules are then never part of the
 * index (they only name themselves beside a default deny, which needs an enforce rule), and are
 * not kept while the rules are read: on the 158,778-rule candidate of the shadow benchmark they
 * were ≈ 70 MB of entries and interned strings, all dropped at `finish()`. If an enforce HTTP
 * rule comes after all, `complete()` says so and the caller builds the index again without it.
 */
export function contractIndexBuilder(opts: {readonly withoutCaptureOnly?: boolean} = {}): ContractIndexBuilder {
  let complete = true
  const httpByHost = new Map<string, MutableHostRules>()
  const captureOnlyByHost = new Map<string, MutableHostRules>()
  let hasEnforceHttp = false
  let invalidHttp: ContractIndex['invalidHttp']
  const mcpByServerTool = new Map<string, IndexedMcpRule[]>()
  let hasEnforceMcp = false
  let invalidMcp: ContractIndex['invalidMcp']
  const intern = interner()
  const add = (rule: JsonObject, position: number): void => {
    if (str(rule, 'rule_kind') === MCP_RULE_KIND) {
      const problem = lifecycleProblem(rule)
      if (problem !== undefined) {
        invalidMcp ??= {position, message: problem}
        return
      }
      if (rule.get('lifecycle_state') !== 'enforce') return
      hasEnforceMcp = true
      const sel = obj(rule.get('selector'))
      const server = str(obj(sel?.get('server')), 'value')
      const tool = str(obj(sel?.get('tool')), 'value')
      if (server === '' || tool === '') return
      const k = intern(mcpKey(server, tool))
      const list = mcpByServerTool.get(k)
      const entry: IndexedMcpRule = {position, id: intern(str(rule, 'rule_id')), args: mcpArgsMatcher(rule, intern)}
      if (list === undefined) mcpByServerTool.set(k, [entry])
      else list.push(entry)
      return
    }
    if (!HTTP_RULE_KINDS.includes(str(rule, 'rule_kind'))) return
    const problem = lifecycleProblem(rule)
    if (problem !== undefined) {
      invalidHttp ??= {position, message: problem}
      return
    }
    const state = rule.get('lifecycle_state')
    if (state !== 'enforce' && state !== 'capture_only') return
    if (state === 'enforce') {
      hasEnforceHttp = true
      if (opts.withoutCaptureOnly === true) complete = false
    } else if (opts.withoutCaptureOnly === true) return
    const ruleHostValue = ruleHost(rule)
    if (ruleHostValue === undefined) return // a rule without a host object never matches
    const host = intern(ruleHostValue)
    const entry: IndexedHttpRule = {position, id: intern(str(rule, 'rule_id')), selector: httpSelector(rule, intern)}
    const byHost = state === 'enforce' ? httpByHost : captureOnlyByHost
    let h = byHost.get(host)
    if (h === undefined) byHost.set(host, (h = {all: [], byPath: new Map(), open: []}))
    h.all.push(entry)
    const paths = entry.selector.paths
    if (paths === undefined || paths.some((m) => m.collapsed.length > 0)) h.open.push(entry)
    else {
      for (const v of new Set(paths.map((m) => m.value))) {
        const list = h.byPath.get(v)
        if (list === undefined) h.byPath.set(v, [entry])
        else list.push(entry)
      }
    }
  }
  const finish = (): ContractIndex => ({
    // capture_only rules only ever name themselves beside a default deny, which needs an enforce rule.
    httpByHost, hasEnforceHttp, captureOnlyByHost: hasEnforceHttp ? captureOnlyByHost : new Map(), ...(invalidHttp === undefined ? {} : {invalidHttp}),
    mcpByServerTool, hasEnforceMcp, ...(invalidMcp === undefined ? {} : {invalidMcp}),
  })
  return {add, finish, complete: () => complete}
}

/**
 * The rules of `host` that could match `canonicalPath`, in contract order: those listed under
 * the literal path and those that match any path. Every other rule of the host has only literal
 * paths that differ, so its path constraint fails.
 */
export function candidateRules(h: HostRules, canonicalPath: string): readonly IndexedHttpRule[] {
  const exact = h.byPath.get(canonicalPath)
  if (exact === undefined) return h.open
  if (h.open.length === 0) return exact
  // Merge two position-ordered lists.
  const out: IndexedHttpRule[] = []
  let i = 0
  let j = 0
  while (i < exact.length || j < h.open.length) {
    const a = exact[i]
    const b = h.open[j]
    if (b === undefined || (a !== undefined && a.position < b.position)) {
      out.push(a as IndexedHttpRule)
      i++
    } else {
      out.push(b)
      j++
    }
  }
  return out
}
