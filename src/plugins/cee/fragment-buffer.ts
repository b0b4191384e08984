/**
 * Fragment reassembly (operations §5.5): per key, the recent outbound fragments with a running
 * byte total, bounded by `max_buffer_bytes`. A scan runs text DLP over the concatenation of the
 * fragments inside the window and reports only patterns that no single fragment matched on its
 * own (a secret wholly inside one request is the per-request scanners' job).
 */
import {LruMap} from './lru.js'

/** Text DLP as the request's scanner runs it: enforced and warn pattern names. */
export type TextDlp = (text: string) => {readonly matches: readonly {readonly pattern: string}[]; readonly warnings: readonly {readonly pattern: string}[]}

interface Fragment {
  readonly bytes: Buffer
  readonly atMs: number
  /** Pattern names this fragment matches on its own (enforced or warn), computed once on append. */
  own: ReadonlySet<string> | null
}

class KeyFragments {
  frags: Fragment[] = []
  total = 0
}

export class FragmentBuffer {
  private readonly keys: LruMap<KeyFragments>
  private bytes = 0

  constructor(private readonly maxBytes: number, private readonly windowMs: number, cap: number) {
    this.keys = new LruMap(cap, (gone) => (this.bytes -= gone.total))
  }

  get activeKeys(): number {
    return this.keys.size
  }

  /** Bytes held across all keys (gauge `pipelock_cross_request_fragment_buffer_bytes`). */
  get totalBytes(): number {
    return this.bytes
  }

  append(key: string, data: Buffer, nowMs: number): void {
    if (data.length === 0) return
    const k = this.keys.touch(key, () => new KeyFragments())
    const before = k.total
    // A single fragment larger than the buffer keeps only its last max_buffer_bytes bytes.
    const bytes = data.length > this.maxBytes ? Buffer.from(data.subarray(data.length - this.maxBytes)) : Buffer.from(data)
    k.frags.push({bytes, atMs: nowMs, own: null})
    k.total += bytes.length
    while (k.total > this.maxBytes && k.frags.length > 1) k.total -= k.frags.shift()!.bytes.length
    this.bytes += k.total - before
  }

  /** The first enforced pattern found only across fragments, or null. */
  scan(key: string, nowMs: number, dlp: TextDlp): string | null {
    const k = this.keys.peek(key)
    if (k === undefined) return null
    const active = k.frags.filter((f) => nowMs - f.atMs <= this.windowMs)
    if (active.length < 2) return null
    const whole = dlp(Buffer.concat(active.map((f) => f.bytes)).toString('utf8'))
    if (whole.matches.length === 0) return null
    const single = new Set<string>()
    for (const f of active) {
      if (f.own === null) {
        const r = dlp(f.bytes.toString('utf8'))
        f.own = new Set([...r.matches, ...r.warnings].map((m) => m.pattern))
      }
      for (const p of f.own) single.add(p)
    }
    for (const m of whole.matches) if (!single.has(m.pattern)) return m.pattern
    return null
  }

  clear(key: string): boolean {
    const k = this.keys.peek(key)
    if (k === undefined) return false
    this.bytes -= k.total
    return this.keys.delete(key)
  }

  /** Drops fragments older than the window and empty keys. */
  sweep(nowMs: number): void {
    for (const [key, k] of [...this.keys.entries()]) {
      const before = k.total
      while (k.frags.length > 0 && nowMs - k.frags[0]!.atMs > this.windowMs) k.total -= k.frags.shift()!.bytes.length
      this.bytes += k.total - before
      if (k.frags.length === 0) this.keys.delete(key)
    }
  }
}
