/**
 * One message written to a stdio peer (the client's stdout, the server's stdin) as one line; what
 * the stdio wrap, the bridges' unserved answers and the wrap's pending answers write through.
 */
import type {Writable} from 'node:stream'
import {MAX_LINE_BYTES} from './line-reader.js'

/** Writes `line` and a newline; settles once taken, or when `out` cannot take it (closed, broken pipe). */
export async function writeLine(out: Writable, line: string, log: (l: string) => void): Promise<void> {
  const bytes = Buffer.byteLength(line) + 1
  if (bytes > MAX_LINE_BYTES) {
    log(`pipelock: message too large: ${bytes} bytes`)
    return
  }
  if (out.destroyed || out.writableEnded) return
  if (out.write(line + '\n')) return
  // Back-pressured: until drained, or the pipe is gone (closed, or EPIPE from a server that has
  // exited: the exit path reports that, not this write).
  await new Promise<void>((resolve) => {
    const done = (): void => {
      out.off('drain', done).off('close', done).off('error', done)
      resolve()
    }
    out.once('drain', done).once('close', done).once('error', done)
  })
}
