/**
 * Compiled scanner parts shared by every scanner that asks for the same one (issue 36, agent
 * profiles): a part whose behaviour is a function of its key alone, and that keeps nothing
 * between calls that changes a later answer (a DFA cache, a memo of the last text), is built
 * once and handed to each scanner asking for that key. Held weakly: a part no scanner holds any
 * more (the old snapshot's, after a reload that changed the patterns) is collected, and its
 * entry with it.
 */
export class SharedCompiled<T extends object> {
  private static readonly all: Array<SharedCompiled<object>> = []
  private readonly held = new Map<string, WeakRef<T>>()

  constructor() {
    SharedCompiled.all.push(this)
  }

  /**
   * Forgets every part built so far, in every cache: the next scanner builds its own, as the first
   * scanner of a process does (the tests of what a fresh scanner compiles, and when, use it). A
   * scanner already built keeps its parts.
   */
  static forgetAll(): void {
    for (const c of SharedCompiled.all) c.held.clear()
  }
  private readonly forget = new FinalizationRegistry<string>((key) => {
    // The entry may already name a part built again since.
    if (this.held.get(key)?.deref() === undefined) this.held.delete(key)
  })

  /** The part for `key`: the one already built if a scanner still holds it, else `build()`'s (null results are not kept). */
  get<R extends T | null>(key: string, build: () => R): R | T {
    const shared = this.held.get(key)?.deref()
    if (shared !== undefined) return shared
    const part = build()
    if (part !== null) {
      this.held.set(key, new WeakRef(part))
      this.forget.register(part, key)
    }
    return part
  }
}
