/**
 * Per-session tool state (spec mcp.md §6.3 drift, §6.5 binding) with the reference's holes fixed:
 * the first-seen definition of a tool is pinned, so a blocked rug-pull stays blocked however often
 * the client lists again (Q5); only forwarded lists feed the binding inventory (Q6). A tool whose
 * drifted list was blocked is held: the client still holds the first definition, but the server
 * behind it changed, so a `tools/call` by that name is refused until the session starts again.
 * The binding inventory is the first forwarded list's names, pinned (§6.5 grows it; see addForwarded).
 */
import {strconvQuote} from '../../canonical/index.js'

export const MAX_TRACKED_TOOLS = 10_000

interface Pin {
  readonly hash: string
  readonly description: string
  readonly params: readonly string[]
  readonly members: Readonly<Record<string, string>>
}

function runes(s: string): string[] {
  return [...s]
}

/** Go `%v` of a string slice: `[a b]`. */
function goList(xs: readonly string[]): string {
  return `[${xs.join(' ')}]`
}

/** The diff summary of a drifted definition (§6.3 step 5). */
export function driftSummary(oldDesc: string, newDesc: string, oldParams: readonly string[], newParams: readonly string[]): string {
  const parts: string[] = []
  const a = runes(oldDesc)
  const b = runes(newDesc)
  if (b.length > a.length) {
    parts.push(`description grew from ${a.length} to ${b.length} chars (+${b.length - a.length})`)
  } else if (b.length < a.length) {
    parts.push(`description shrank from ${a.length} to ${b.length} chars (-${a.length - b.length})`)
  } else if (oldDesc !== newDesc) {
    parts.push(`description changed (${b.length} chars)`)
  }
  if (b.length > a.length) {
    const tail = b.slice(a.length)
    parts.push(`added: ${strconvQuote(tail.length > 200 ? tail.slice(0, 200).join('') + '...' : tail.join(''))}`)
  }
  const added = newParams.filter((p) => !oldParams.includes(p))
  const removed = oldParams.filter((p) => !newParams.includes(p))
  if (added.length > 0) parts.push(`parameters added: ${goList(added)}`)
  if (removed.length > 0) parts.push(`parameters removed: ${goList(removed)}`)
  return parts.join('; ')
}

export class ToolBaseline {
  private readonly pins = new Map<string, Pin>()
  private readonly inventory = new Set<string>()
  /** Names later lists brought outside the pinned baseline: remembered so each is logged once. */
  private readonly unlisted = new Set<string>()
  /** Tools held for a blocked rug-pull, with what changed (the summary of the drift that held them). */
  private readonly held = new Map<string, string>()
  /** none: no list with a named tool yet; paging: the first listing's pages are coming in; pinned. */
  private state: 'none' | 'paging' | 'pinned' = 'none'
  /** Ids of forwarded tools/list requests for a later page (a cursor), while the first listing is open. */
  private readonly pageRequests = new Set<string>()

  /**
   * Drift against the pinned first-seen definition; pins unseen names. Null = no drift. `members`
   * are the other hashed members' JSON by name (title, annotations, …): a change is named.
   */
  checkDrift(name: string, hash: string, description: string, params: readonly string[], members: Readonly<Record<string, string>> = {}): string | null {
    const pin = this.pins.get(name)
    if (pin === undefined) {
      if (this.pins.size < MAX_TRACKED_TOOLS) this.pins.set(name, {hash, description, params: [...params], members: {...members}})
      return null
    }
    if (pin.hash === hash) return null
    const changed = Object.keys(members).filter((k) => (pin.members[k] ?? '') !== members[k]).map((k) => `${k} changed`)
    return [driftSummary(pin.description, description, pin.params, params), ...changed].filter((p) => p !== '').join('; ') || 'definition changed'
  }

  /** Holds `name` for the rest of the session: its drifted definition was blocked (`summary` says what changed). */
  holdDrifted(name: string, summary: string): void {
    if (name !== '' && !this.held.has(name)) this.held.set(name, summary)
  }

  /** What changed in `name`'s definition when a drift held it; undefined when the tool is not held. */
  heldDrift(name: string): string | undefined {
    return this.held.get(name)
  }

  /**
   * Forgets every pinned definition and every hold, keeping the binding inventory (mcp.md §14.3:
   * a reload that turns `detect_drift` on re-seeds the pins from the next tools/list). The
   * operator's re-baseline of a listener after a server update it accepts.
   */
  resetDrift(): void {
    this.pins.clear()
    this.held.clear()
  }

  /**
   * A forwarded tools/list request. One that carries a `cursor` asks for a later page of a listing
   * (MCP pagination): while the first listing is still open, its answer continues the baseline.
   */
  noteListRequest(id: string | null, cursor: boolean): void {
    if (id === null || !cursor || this.state === 'pinned' || this.pageRequests.size >= MAX_TRACKED_TOOLS) return
    this.pageRequests.add(id)
  }

  /**
   * Records the names of a forwarded tools/list. The first listing with a named tool is the
   * baseline and stays pinned (as the binding is documented: a tool a server adds mid-session is a
   * form of rug-pull, so later lists never widen what may be called — the reference grows it, §6.5
   * / D5). A first listing in pages (`more`: the answer has a `nextCursor`) takes in the pages the
   * client asks for with its cursors (`id` of the answer), up to the page without a next cursor; a
   * list started over from its first page instead ends it. Returns the names a later list brought
   * that are outside the baseline, each once.
   */
  addForwarded(names: readonly string[], page: {readonly id?: string | null; readonly more?: boolean} = {}): string[] {
    const continues = page.id !== undefined && page.id !== null && this.pageRequests.delete(page.id)
    const named = names.filter((n) => n !== '')
    if (this.state === 'paging' && !continues) this.pin()
    if (this.state !== 'pinned') {
      if (named.length === 0 && this.state === 'none' && page.more !== true) return []
      for (const n of named) if (this.inventory.size < MAX_TRACKED_TOOLS) this.inventory.add(n)
      if (page.more === true) this.state = 'paging'
      else this.pin()
      return []
    }
    const added: string[] = []
    for (const n of named) {
      if (this.inventory.has(n) || this.unlisted.has(n) || this.unlisted.size >= MAX_TRACKED_TOOLS) continue
      this.unlisted.add(n)
      added.push(n)
    }
    return added
  }

  private pin(): void {
    this.state = 'pinned'
    this.pageRequests.clear()
  }

  /** The names among `names` outside the pinned baseline (none while the first listing is still open). */
  outside(names: readonly string[]): string[] {
    if (this.state !== 'pinned') return []
    return [...new Set(names.filter((n) => n !== '' && !this.inventory.has(n)))]
  }

  /** Session binding check for a `tools/call` (§6.5): null when the call is bound. */
  bindingFinding(toolName: string): 'missing_tool_name' | 'no_baseline' | 'unknown_tool' | null {
    if (toolName === '') return 'missing_tool_name'
    if (this.state === 'none') return 'no_baseline'
    return this.inventory.has(toolName) ? null : 'unknown_tool'
  }
}
