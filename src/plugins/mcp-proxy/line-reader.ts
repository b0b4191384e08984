/**
 * Newline-delimited message reading for stdio transports (spec mcp.md §1.3): split on `\n`,
 * at most 10 MiB per line (a longer line is an error — fix Q31: the caller ends the session).
 */
import type {Readable} from 'node:stream'

export const MAX_LINE_BYTES = 10 * 1024 * 1024

export class LineTooLongError extends Error {
  constructor() {
    super('bufio.Scanner: token too long')
    this.name = 'LineTooLongError'
  }
}

/** Yields every line (without `\n`, not trimmed, blank lines included); a final unterminated line too. */
export async function* readLines(stream: Readable, max = MAX_LINE_BYTES): AsyncGenerator<string> {
  let parts: Buffer[] = []
  let size = 0
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    for (;;) {
      const nl = buf.indexOf(0x0a)
      if (nl < 0) break
      if (size + nl > max) throw new LineTooLongError()
      parts.push(buf.subarray(0, nl))
      yield Buffer.concat(parts).toString('utf8')
      parts = []
      size = 0
      buf = buf.subarray(nl + 1)
    }
    if (buf.length > 0) {
      size += buf.length
      if (size > max) throw new LineTooLongError()
      parts.push(buf)
    }
  }
  if (size > 0) yield Buffer.concat(parts).toString('utf8')
}
