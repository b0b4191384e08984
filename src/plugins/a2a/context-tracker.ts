/**
 * Context-id session smuggling (scanners-extra §2.7, wired here where the reference leaves it
 * inert): an instruction split across several messages of one A2A context, each harmless alone.
 * The texts of each context are kept — at most `maxMessages` per context, `MAX_CONTEXT_BYTES`
 * per context, `maxContexts` contexts (LRU) — and the injection scan is run on their join.
 * Trimming a context, or meeting again an id that was evicted, marks it tainted: the report then
 * says the view is partial.
 */
import {BoundedLru} from './card.js'

/** Per-context byte bound of the retained text (ours: keeps total memory ≤ maxContexts × this). */
export const MAX_CONTEXT_BYTES = 32 * 1024

interface ContextState {
  texts: string[]
  bytes: number
  tainted: boolean
}

export interface TrackerLimits {
  readonly maxMessages: number
  readonly maxContexts: number
}

export const SMUGGLING_REASON = 'a2a: session smuggling detected — injection visible only in accumulated context'

export class ContextTracker {
  private readonly contexts: BoundedLru<ContextState>
  /** Ids evicted from the LRU (bounded the same way): one that returns starts tainted. */
  private readonly evicted: BoundedLru<true>
  /** taskId → contextId, learnt from messages carrying both. */
  private readonly tasks: BoundedLru<string>
  private anon = 0
  private limits: TrackerLimits

  constructor(limits: TrackerLimits) {
    this.limits = limits
    this.contexts = new BoundedLru(limits.maxContexts)
    this.evicted = new BoundedLru(limits.maxContexts)
    this.tasks = new BoundedLru(limits.maxContexts)
  }

  get size(): number {
    return this.contexts.size
  }

  /** Applies reloaded limits (shrinking evicts the oldest contexts). */
  setLimits(limits: TrackerLimits): void {
    if (limits.maxContexts === this.limits.maxContexts && limits.maxMessages === this.limits.maxMessages) return
    this.limits = limits
    this.contexts.resize(limits.maxContexts)
    this.evicted.resize(limits.maxContexts)
    this.tasks.resize(limits.maxContexts)
  }

  /** The context a message belongs to: contextId, else its task's context, else `task:<id>`, else a fresh anonymous one. */
  contextOf(contextId: string, taskId: string): string {
    if (contextId !== '') {
      if (taskId !== '') this.tasks.set(taskId, contextId)
      return contextId
    }
    if (taskId !== '') return this.tasks.get(taskId) ?? `task:${taskId}`
    return `anon:${++this.anon}`
  }

  /**
   * Adds the message's texts to its context and answers the smuggling reason when the joined
   * context shows an injection none of the current texts shows alone (null otherwise).
   */
  observe(context: string, texts: readonly string[], injection: (text: string) => readonly string[]): string | null {
    if (texts.length === 0) return null
    let st = this.contexts.get(context)
    if (st === undefined) {
      st = {texts: [], bytes: 0, tainted: this.evicted.has(context)}
      for (const gone of this.contexts.set(context, st)) this.evicted.set(gone, true)
    }
    for (const t of texts) {
      st.texts.push(t)
      st.bytes += Buffer.byteLength(t)
    }
    while (st.texts.length > this.limits.maxMessages || (st.bytes > MAX_CONTEXT_BYTES && st.texts.length > 1)) {
      st.bytes -= Buffer.byteLength(st.texts.shift()!)
      st.tainted = true
    }
    if (st.texts.length <= texts.length) return null
    if (texts.some((t) => injection(t).length > 0)) return null
    if (injection(st.texts.join(' ')).length === 0) return null
    return st.tainted ? `${SMUGGLING_REASON} (context tainted: message limit reached)` : SMUGGLING_REASON
  }
}
