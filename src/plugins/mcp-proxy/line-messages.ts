/**
 * A stdio stream read message by message: the MCP server's stdout, and the client's stdin (the
 * stdio wrap and both bridges). MCP's stdio transport carries one message per line (spec mcp.md
 * §1.3); a side that pretty-prints breaks that: each of its lines judged alone was refused as
 * unparseable (an `id: null` error per line), and the request the lines made or answered was left
 * waiting for ever. So a line that opens a JSON object or array without closing it is held with
 * the lines after it until the value closes; the lines are then yielded joined by `\n`, as the one
 * message they make, for the gate of that direction to refuse whole and answer the request it
 * makes or answers (the request and response gates' `framing` stages). Held lines that turn out
 * not to make one value (a string still open at a line's end, a bracket closed that was never
 * opened, a line that is a whole message of its own, more than `max` bytes held, the stream's
 * end) are yielded one by one, as before.
 */
import {MAX_LINE_BYTES} from './line-reader.js'

/** Where a JSON value read line by line stands after a line. */
type Nesting = 'open' | 'closed' | 'broken'

/** The bracket nesting of a JSON value read a line at a time (strings skipped; a raw line break never sits inside one). */
class JsonNesting {
  private depth = 0

  /** Reads one more line. */
  feed(line: string): Nesting {
    let inString = false
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i)
      if (inString) {
        if (c === 0x5c) i++
        else if (c === 0x22) inString = false
      } else if (c === 0x22) inString = true
      else if (c === 0x7b || c === 0x5b) this.depth++
      else if (c === 0x7d || c === 0x5d) {
        if (--this.depth < 0) return 'broken'
        if (this.depth === 0) return line.slice(i + 1).trim() === '' ? 'closed' : 'broken'
      }
    }
    return inString ? 'broken' : 'open'
  }
}

/** A line that opens a value and leaves it open: the first line of a message written over several. */
function opensMessage(line: string): boolean {
  const t = line.trim()
  const first = t.charCodeAt(0)
  if (first !== 0x7b && first !== 0x5b) return false
  // A message on its one line ends its value there: nothing to count (the common case, any size).
  const last = t.charCodeAt(t.length - 1)
  if (last === 0x7d || last === 0x5d) return false
  return new JsonNesting().feed(t) === 'open'
}

/**
 * A line that is, on its own, a whole JSON object from its first column: a message of its own,
 * never the rest of a held one (whose inner lines a pretty-printer indents).
 */
function wholeObject(line: string): boolean {
  return line.startsWith('{') && new JsonNesting().feed(line) === 'closed'
}

/** The messages of `lines` (blank lines passed through as they are): one line each, or the lines of one message joined by `\n`. */
export async function* lineMessages(lines: AsyncIterable<string>, max = MAX_LINE_BYTES): AsyncGenerator<string> {
  let held: string[] = []
  let size = 0
  let nesting: JsonNesting | null = null
  for await (const line of lines) {
    if (nesting === null) {
      if (!opensMessage(line)) {
        yield line
        continue
      }
      nesting = new JsonNesting()
      nesting.feed(line)
      held = [line]
      size = Buffer.byteLength(line)
      continue
    }
    if (wholeObject(line)) {
      // Not the rest of the held value: a message of its own after lines that made none.
      yield* held
      held = []
      nesting = null
      yield line
      continue
    }
    held.push(line)
    size += Buffer.byteLength(line) + 1
    const state = size > max ? 'broken' : nesting.feed(line)
    if (state === 'open') continue
    if (state === 'closed') yield held.join('\n')
    else yield* held
    held = []
    nesting = null
  }
  yield* held
}
