/**
 * Fragment reassembly (operations §5.5): per key, the recent outbound fragments with a running
 * byte total, bounded by `max_buffer_bytes`. A scan runs text DLP over the concatenation of the
 * fragments inside the window and reports only patterns that no single fragment matched on its
 * own (a secret wholly inside one request is the per-request scanners' job).
 */
import type {DlpEngine} from '../scanner/index.js'
import {LruMap, type SweepPass} from './lru.js'
import {WindowProof} from './window-proof.js'

/** A window that the proof gave up on is rebuilt (re-proven from its first fragment) only up to this size. */
const REBUILD_CHARS = 8192

/**
 * Text DLP as the request's scanner runs it: enforced and warn pattern names. `engine`, when
 * present, is the engine the function runs `scanTextForDlp` with (`textDlpOf`): the buffer then
 * keeps an incremental proof per key (`window-proof.ts`) and skips the whole-window pass of a
 * window proven to have no finding.
 */
export type TextDlp = ((text: string) => {readonly matches: readonly {readonly pattern: string}[]; readonly warnings: readonly {readonly pattern: string}[]}) & {
  readonly engine?: DlpEngine
}

/** The text DLP of a scanner, carrying its engine. */
export function textDlpOf(scanner: {readonly dlp: DlpEngine; scanTextForDlp(text: string): ReturnType<TextDlp>}): TextDlp {
  return Object.assign((text: string) => scanner.scanTextForDlp(text), {engine: scanner.dlp})
}

interface Fragment {
  /** The fragment's bytes decoded as UTF-8 (what the window and the per-fragment pass scan). */
  readonly text: string
  /** Its byte length (the buffer's accounting is in bytes, §5.5). */
  readonly size: number
  /**
   * The bytes, kept only when they are not valid UTF-8 on their own (a Buffer appended as given,
   * or a fragment cut to its last `max_buffer_bytes` bytes): then the window is decoded from the
   * concatenated bytes, as before. Valid UTF-8 fragments end on a whole character, so decoding
   * their concatenation equals joining their decodings — the window is built from the strings.
   */
  readonly raw: Buffer | null
  readonly atMs: number
  /** Pattern names this fragment matches on its own (enforced or warn), computed once on append. */
  own: ReadonlySet<string> | null
}

class KeyFragments {
  frags: Fragment[] = []
  total = 0
  /** The incremental no-finding proof of the active window (null: none yet, or it was dropped). */
  proof: WindowProof | null = null
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

  /**
   * Appends one fragment: a request's stream as text (stored as a string: no copy into a Buffer
   * and no decode on every scan) or raw bytes.
   */
  append(key: string, data: string | Buffer, nowMs: number): void {
    if (data.length === 0) return
    let frag: Fragment
    if (typeof data === 'string') {
      // Encoding to UTF-8 turns a lone surrogate into U+FFFD: the stored text is what the bytes decode to.
      const text = data.isWellFormed() ? data : data.toWellFormed()
      const size = Buffer.byteLength(text, 'utf8')
      frag = size > this.maxBytes ? rawFragment(Buffer.from(text, 'utf8'), this.maxBytes, nowMs) : {text, size, raw: null, atMs: nowMs, own: null}
    } else frag = rawFragment(data, this.maxBytes, nowMs)
    const k = this.keys.touch(key, () => new KeyFragments())
    const before = k.total
    k.frags.push(frag)
    k.total += frag.size
    while (k.total > this.maxBytes && k.frags.length > 1) k.total -= k.frags.shift()!.size
    this.bytes += k.total - before
  }

  /** The first enforced pattern found only across fragments, or null. */
  scan(key: string, nowMs: number, dlp: TextDlp): string | null {
    const k = this.keys.peek(key)
    if (k === undefined) return null
    const active = k.frags.filter((f) => nowMs - f.atMs <= this.windowMs)
    if (active.length < 2) return null
    if (dlp.engine !== undefined && proveClean(k, active, dlp.engine)) return null
    const whole = dlp(windowText(active))
    if (whole.matches.length === 0) return null
    const single = new Set<string>()
    for (const f of active) {
      if (f.own === null) {
        const r = dlp(f.text)
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
    this.sweepPass().step(Infinity, nowMs)
  }

  /** `sweep` a slice at a time: each step drops expired fragments and empty keys of up to `max` keys. */
  sweepPass(): SweepPass {
    return this.keys.pass((key, k, nowMs) => {
      const before = k.total
      while (k.frags.length > 0 && nowMs - k.frags[0]!.atMs > this.windowMs) k.total -= k.frags.shift()!.size
      this.bytes += k.total - before
      if (k.frags.length === 0) this.keys.delete(key)
    })
  }
}

/**
 * Brings the key's proof up to `active` — extended by the fragments appended since, or rebuilt
 * when the window no longer starts where the proof does (expiry, eviction, another engine) —
 * and answers whether the window is proven to have no text-DLP finding. Windows holding a
 * fragment kept as bytes are never proven (their text is decoded from the joined bytes).
 */
function proveClean(k: KeyFragments, active: readonly Fragment[], engine: DlpEngine): boolean {
  if (active.some((f) => f.raw !== null)) {
    k.proof = null
    return false
  }
  // The proof follows a window that only grows at its end and loses fragments at its start; an
  // active set that is not a suffix of the buffer (a clock that went back) gets the full pass.
  const start = k.frags.length - active.length
  for (let i = 0; i < active.length; i++) if (k.frags[start + i] !== active[i]) return false
  let p = k.proof
  if (p === null || p.engine !== engine || p.first !== active[0] || p.count > active.length) {
    // A large window the proof gave up on is not re-proven on every request it slides (that
    // would add O(window) to each full pass); it gets the full pass, as without a proof.
    if (p !== null && p.gaveUp && p.engine === engine && active.reduce((n, f) => n + f.text.length, 0) > REBUILD_CHARS) {
      p.slide(active[0]!, active.length)
      return false
    }
    p = WindowProof.start(engine)
    k.proof = p
    if (p === null) return false
  }
  for (let i = p.count; i < active.length; i++) p.extend(active[i]!, active[i]!.text)
  return p.proven(() => windowText(active))
}

/** A fragment from bytes: a single fragment larger than the buffer keeps only its last `maxBytes` bytes. */
function rawFragment(data: Buffer, maxBytes: number, atMs: number): Fragment {
  const bytes = data.length > maxBytes ? Buffer.from(data.subarray(data.length - maxBytes)) : Buffer.from(data)
  const text = bytes.toString('utf8')
  const valid = Buffer.byteLength(text, 'utf8') === bytes.length && Buffer.from(text, 'utf8').equals(bytes)
  return {text, size: bytes.length, raw: valid ? null : bytes, atMs, own: null}
}

/** The concatenation of the fragments decoded as UTF-8 (§5.5 step 2). */
function windowText(active: readonly Fragment[]): string {
  if (active.every((f) => f.raw === null)) return active.map((f) => f.text).join('')
  // Some fragment is not valid UTF-8 alone: decode the concatenated bytes (a character may span fragments).
  return Buffer.concat(active.map((f) => f.raw ?? Buffer.from(f.text, 'utf8'))).toString('utf8')
}
