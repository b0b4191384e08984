/**
 * SSE reading for MCP Streamable HTTP (spec mcp.md §3.2.3): lines split on `\n` (≤ 10 MiB), a
 * blank line ends an event, `:` lines are comments, one leading space of a value is dropped,
 * `data` lines join with `\n`, events without data are skipped, an unterminated last event with
 * data is still delivered. Each event's data is one JSON-RPC message.
 */
import type {Readable} from 'node:stream'
import {readLines} from './line-reader.js'

export async function* readSseEvents(stream: Readable): AsyncGenerator<string> {
  let data: string[] = []
  for await (const raw of readLines(stream)) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw
    if (line === '') {
      if (data.length > 0) yield data.join('\n')
      data = []
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    // `id`, `event` and `retry` are not used for routing (no Last-Event-ID resumption).
    if (field === 'data') data.push(value)
  }
  if (data.length > 0) yield data.join('\n')
}

/** One SSE event per message: each line of the message prefixed `data: `, then a blank line. */
export function sseEvent(message: string): string {
  return message.split('\n').map((l) => `data: ${l}\n`).join('') + '\n'
}
