/**
 * Texts as '\n'-separated lines of UTF-8 bytes in one reused buffer, for the batched RE2::Set
 * passes of the screens (bench: cee): a set pass over lines `lo…hi−1` reads the bytes
 * `texts.slice(lo, hi).join('\n')` would encode to, without the joined string, the per-text
 * strings a caller would otherwise build (the §5.5 junction chains are copied from the value
 * lines' bytes), or a fresh buffer. One buffer per DLP engine: single-threaded use, one user at
 * a time (each user starts with `clear()` and is done before returning); a view is valid until
 * the next write.
 */

/** Texts from this length on are written by Node's UTF-8 writer rather than byte by byte. */
const NATIVE_WRITE_FROM = 128

/** Buffers beyond this are dropped at the next `clear()`, so a huge text does not stay allocated. */
const KEEP_BYTES = 1 << 20

export class ByteLines {
  private buf: Buffer = Buffer.allocUnsafeSlow(4096)
  /** Line i is `buf[starts[i], starts[i + 1] − 1)`; `starts[0]` is 0, `starts[count]` one past the last '\n'. */
  private starts = new Int32Array(256)
  /** A caller's number per line (`tagOf`). */
  private tags = new Int32Array(256)
  private n = 0
  /** Bytes written, the open line included. */
  private end = 0
  /** UTF-16 code units of the closed lines, one per separator included (`join('\n').length + 1`). */
  private units = 0
  private openUnits = 0

  clear(): void {
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafeSlow(4096)
    this.n = 0
    this.end = 0
    this.units = 0
    this.openUnits = 0
  }

  /** Closed lines. */
  get count(): number {
    return this.n
  }

  /** `texts.join('\n').length` of the closed lines (0 for none). */
  get joinedLength(): number {
    return this.units === 0 ? 0 : this.units - 1
  }

  /** Appends `text` to the open line, as UTF-8 (lone surrogates as U+FFFD, as Node writes them). */
  write(text: string): void {
    this.reserve(text.length * 3)
    const b = this.buf
    // A long text natively (the same bytes; the byte loop was a tenth of a chat request's scan,
    // its split-secret screen writing ≈ 400 KB of halves and chains).
    if (text.length >= NATIVE_WRITE_FROM) {
      this.end += b.write(text, this.end, 'utf8')
      this.openUnits += text.length
      return
    }
    let o = this.end
    // ASCII byte by byte (most texts, and short: a native write costs more per call); a text
    // holding anything else is written again from its start, natively.
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c >= 0x80) {
        o = this.end + b.write(text, this.end, 'utf8')
        break
      }
      b[o++] = c
    }
    this.end = o
    this.openUnits += text.length
  }

  /**
   * Appends bytes `from…to` of this buffer (earlier lines: `lineStart`/`lineEnd`) to the open
   * line; `units` is their length in UTF-16 code units (equal for ASCII).
   */
  copy(from: number, to: number, units: number): void {
    this.reserve(to - from)
    const b = this.buf
    let o = this.end
    for (let i = from; i < to; i++) b[o++] = b[i]!
    this.end = o
    this.openUnits += units
  }

  /** Closes the open line with `tag`. */
  endLine(tag = 0): void {
    this.reserve(1)
    if (this.n + 2 > this.starts.length) {
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const g = new Int32Array(a.length * 2)
        g.set(a)
        return g
      }
      this.starts = grow(this.starts)
      this.tags = grow(this.tags)
    }
    this.tags[this.n] = tag
    this.buf[this.end++] = 0x0a
    this.starts[++this.n] = this.end
    this.units += this.openUnits + 1
    this.openUnits = 0
  }

  /** Byte offset where closed line `i` starts. */
  lineStart(i: number): number {
    return this.starts[i]!
  }

  /** Byte offset where closed line `i` ends (its '\n'). */
  lineEnd(i: number): number {
    return this.starts[i + 1]! - 1
  }

  tagOf(i: number): number {
    return this.tags[i]!
  }

  /** Bytes of closed lines `lo…hi−1` joined by '\n' (a view, valid until the next write). */
  view(lo: number, hi: number): Buffer {
    return hi <= lo ? this.buf.subarray(0, 0) : this.buf.subarray(this.lineStart(lo), this.lineEnd(hi - 1))
  }

  /** Room for `more` bytes after `end`, the written bytes kept. */
  private reserve(more: number): void {
    const need = this.end + more
    if (need <= this.buf.length) return
    const g = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2))
    this.buf.copy(g, 0, 0, this.end)
    this.buf = g
  }
}
