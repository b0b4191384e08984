/**
 * Newline-delimited message reading for stdio transports (spec mcp.md §1.3): split on `\n`,
 * at most 10 MiB per line (a longer line is an error — fix Q31: the caller ends the session).
 */
import type {Readable} from 'node:stream'

export const MAX_LINE_BYTES = 10 * 1024 * 1024

/** `10 MiB` for whole mebibytes, else the byte count. */
function limitText(max: number): string {
  return max % (1024 * 1024) === 0 ? `${max / (1024 * 1024)} MiB` : `${max} bytes`
}

/** A line over the limit; `line` counts raw lines from 1, blank ones included. */
export class LineTooLongError extends Error {
  constructor(
    readonly line: number,
    readonly max = MAX_LINE_BYTES,
  ) {
    super(`line ${line} exceeds the ${limitText(max)} line limit`)
    this.name = 'LineTooLongError'
  }

  /** The message naming whose line it was: `line 3 from the client exceeds …`. */
  from(source: string): string {
    return `line ${this.line} from ${source} exceeds the ${limitText(this.max)} line limit`
  }
}

export interface ReadLinesOptions {
  /**
   * Called for a line over the limit, which is then skipped (its bytes are not held) and reading
   * goes on; without it such a line ends the reading with a `LineTooLongError`.
   */
  readonly onTooLong?: (err: LineTooLongError) => void
}

/** Yields every line (without `\n`, not trimmed, blank lines included); a final unterminated line too. */
export async function* readLines(stream: Readable, max = MAX_LINE_BYTES, opts: ReadLinesOptions = {}): AsyncGenerator<string> {
  let parts: Buffer[] = []
  let size = 0
  let lineNo = 1
  // Inside a line over the limit that is being skipped up to its newline.
  let skipping = false
  const tooLong = (): void => {
    const err = new LineTooLongError(lineNo, max)
    if (opts.onTooLong === undefined) throw err
    opts.onTooLong(err)
    parts = []
    size = 0
    skipping = true
  }
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    for (;;) {
      const nl = buf.indexOf(0x0a)
      if (nl < 0) break
      if (!skipping && size + nl > max) tooLong()
      if (skipping) {
        skipping = false
      } else {
        parts.push(buf.subarray(0, nl))
        yield Buffer.concat(parts).toString('utf8')
      }
      parts = []
      size = 0
      lineNo++
      buf = buf.subarray(nl + 1)
    }
    if (buf.length > 0 && !skipping) {
      size += buf.length
      if (size > max) tooLong()
      else parts.push(buf)
    }
  }
  if (size > 0) yield Buffer.concat(parts).toString('utf8')
}
