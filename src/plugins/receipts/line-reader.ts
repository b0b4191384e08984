import {open} from 'node:fs/promises'

export const MAX_LINE_BYTES = 1024 * 1024

export interface Line {
  /** 1-based line number in the file. */
  number: number
  /** The line without its terminator; undefined when it exceeded the limit (its bytes are dropped). */
  text: string | undefined
  /** Byte length of the line as read (for an over-long line: at least limit + 1). */
  bytes: number
  /** False for a last line that ended without `\n` (a write cut short leaves one). */
  terminated: boolean
}

/**
 * Streams a file line by line with bounded memory: a line longer than `maxBytes` is reported
 * with `text: undefined` and never buffered whole, so a hostile file cannot exhaust memory.
 */
export async function* readLines(path: string, maxBytes = MAX_LINE_BYTES, chunkSize = 1 << 20): AsyncGenerator<Line> {
  for await (const batch of readLineBatches(path, maxBytes, chunkSize)) yield* batch
}

/**
 * The lines of a file, one array per read of `chunkSize` bytes (a line that ends in a later
 * read belongs to that read's batch): one asynchronous step per chunk instead of per line, for
 * readers that handle a million lines (the verifier). Batches may be empty.
 */
export async function* readLineBatches(path: string, maxBytes = MAX_LINE_BYTES, chunkSize = 1 << 20): AsyncGenerator<Line[]> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(chunkSize)
    let parts: Buffer[] = []
    let partBytes = 0
    let overflow = false
    let lineNo = 1
    for (;;) {
      const {bytesRead} = await fh.read(buf, 0, chunkSize, null)
      if (bytesRead === 0) break
      const batch: Line[] = []
      let start = 0
      for (;;) {
        const nl = buf.indexOf(0x0a, start)
        const end = nl === -1 || nl >= bytesRead ? bytesRead : nl
        const piece = end - start
        if (end !== bytesRead && partBytes === 0 && !overflow && piece <= maxBytes) {
          // The whole line is in this chunk (the common case): decode it straight from the read
          // buffer, without the copy and concatenation a line split across reads needs.
          batch.push({number: lineNo++, text: stripCr(buf.toString('utf8', start, end)), bytes: piece, terminated: true})
          start = end + 1
          if (start >= bytesRead) break
          continue
        }
        if (!overflow) {
          if (partBytes + piece > maxBytes) {
            overflow = true
            parts = []
          } else if (piece > 0) {
            parts.push(Buffer.from(buf.subarray(start, end)))
          }
        }
        partBytes += piece
        if (end === bytesRead) break
        batch.push(finish(true))
        start = end + 1
        if (start >= bytesRead) break
      }
      yield batch
    }
    if (partBytes > 0 || overflow) yield [finish(false)]

    function finish(terminated: boolean): Line {
      const line: Line = {
        number: lineNo++,
        text: overflow ? undefined : stripCr(Buffer.concat(parts, partBytes).toString('utf8')),
        bytes: partBytes,
        terminated,
      }
      parts = []
      partBytes = 0
      overflow = false
      return line
    }
  } finally {
    await fh.close()
  }
}

function stripCr(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s
}
