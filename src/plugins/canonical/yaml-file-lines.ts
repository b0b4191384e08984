import {readSync} from 'node:fs'
import {FlowDepth} from './flow-depth.js'
import {canonicalLineProblem, type ForwardLines} from './strict-yaml-fast.js'

/**
 * Bytes read from the file at a time (tests read in smaller chunks). Small enough that a chunk's
 * lines are gone before V8's young generation would move them to the old one.
 */
export const FILE_LINES_CHUNK = 1 << 12

/**
 * A YAML document's lines read from an open file a chunk at a time, for the streamed strict
 * parse (`parseStrictYamlStreamedFd`): a 200,000-rule contract is a 280 MB file, and its text
 * with the bytes it was decoded from was 560 MB of a `learn shadow` run before a rule was read.
 *
 * Each line passes, as it is read, every check the streamed parse of a whole text makes first
 * (`parseStrictYamlStreamed` and `parseCanonicalYaml`): no character outside the subset, no
 * `<<`, flow brackets no deeper than the full parser takes (counted across lines, quotes
 * ignored, as there), and the file ends with a newline. A line failing one throws (the parse
 * then answers undefined); `whole()` says whether the file was read to its end with every check
 * passed and some content. A line holding U+FFFD fails too: bytes that are not UTF-8 decode to
 * it, and a line decoded on its own need not replace them exactly as the whole text's decoding
 * does (the ordinary load then decides).
 */
export class FileLines implements ForwardLines {
  private readonly buf: Buffer
  /**
   * The bytes after the last newline read, as copies (`buf` is read into again), joined once the
   * line's newline comes: a line longer than many chunks is not copied again at each one.
   */
  private carry: Buffer[] = []
  private queue: string[] = []
  private next = 0
  private eof = false
  private failed = false
  private content = false
  /** The flow nesting, counted across lines as over the whole text. */
  private readonly flow = new FlowDepth()
  /** The index of the line last given, and the line. */
  private index = -1
  private current: string | undefined

  constructor(
    private readonly fd: number,
    chunkBytes = FILE_LINES_CHUNK,
    /** Sees every byte read, in order (a caller that reads a file more than once proves it read the same bytes). */
    private readonly onBytes?: (bytes: Buffer) => void,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes)
  }

  at(i: number): string | undefined {
    if (i === this.index) return this.current
    if (i !== this.index + 1) throw new Error('lines are read forward only')
    while (this.next >= this.queue.length && !this.eof) this.fill()
    this.index = i
    this.current = this.next < this.queue.length ? this.queue[this.next++] : undefined
    return this.current
  }

  /** Whether the whole file was read, every line passed, and it held more than white space. */
  whole(): boolean {
    return this.eof && !this.failed && this.content && this.next >= this.queue.length
  }

  /**
   * The next chunk's lines. Split on the newline byte (never part of another character in UTF-8)
   * and decoded line by line: each line is a string of its own. Lines cut from one chunk-sized
   * string would be slices of it, and a value the caller keeps from any of them (a rule id in the
   * shadow index) would keep the whole chunk, and so the whole file, alive.
   */
  private fill(): void {
    const n = readSync(this.fd, this.buf, 0, this.buf.length, null)
    if (n > 0) this.onBytes?.(this.buf.subarray(0, n))
    const lines: string[] = []
    if (n === 0) {
      this.eof = true
      // The last line of the file must end with a newline, as the whole text must.
      if (this.carry.length > 0) this.fail()
    }
    let from = 0
    for (let nl = this.buf.indexOf(0x0a, 0); nl >= 0 && nl < n; nl = this.buf.indexOf(0x0a, from)) {
      const tail = this.buf.subarray(from, nl)
      lines.push((this.carry.length === 0 ? tail : Buffer.concat([...this.carry, tail])).toString('utf8'))
      this.carry = []
      from = nl + 1
    }
    if (from < n) this.carry.push(Buffer.from(this.buf.subarray(from, n)))
    for (const line of lines) this.check(line)
    this.queue = lines
    this.next = 0
  }

  private check(line: string): void {
    if (canonicalLineProblem(line) || line.includes('\ufffd')) this.fail()
    if (!this.content && /[^ ]/.test(line)) this.content = true
    if (this.flow.exceededIn(line) >= 0) this.fail()
  }

  private fail(): never {
    this.failed = true
    throw new Error('outside the streamed subset')
  }
}
