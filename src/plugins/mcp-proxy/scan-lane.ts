/**
 * Per-session message order around the scan pool: a message's decision (and its record and
 * writes) runs after every earlier message of its lane, so a small message never overtakes a
 * large one still being scanned, while other lanes (sessions) go on.
 */
export class SerialLane {
  private tail: Promise<unknown> = Promise.resolve()
  private queued = 0

  /** Runs `fn` after everything queued before it; a failure does not stop later work. */
  run<T>(fn: () => T | Promise<T>): Promise<T> {
    this.queued++
    const p = this.tail.then(fn)
    this.tail = p.then(() => this.queued--, () => this.queued--)
    return p
  }

  get idle(): boolean {
    return this.queued === 0
  }
}

/** Lanes by key (the listener: one per MCP session); a lane is dropped once drained. */
export class SerialLanes {
  private readonly lanes = new Map<string, SerialLane>()

  run<T>(key: string, fn: () => T | Promise<T>): Promise<T> {
    let lane = this.lanes.get(key)
    if (lane === undefined) this.lanes.set(key, (lane = new SerialLane()))
    const l = lane
    const p = l.run(fn)
    const drop = (): void => {
      if (l.idle && this.lanes.get(key) === l) this.lanes.delete(key)
    }
    p.then(drop, drop)
    return p
  }

  get size(): number {
    return this.lanes.size
  }
}
