/**
 * A2A server-sent event streams (scanners-extra §2.9): each event of a streamed A2A response
 * (`message:stream`, `tasks/…:subscribe`) is checked on its own as it passes, with the same
 * field-aware walk as a buffered A2A response, then its canonical text (event type, id, retry
 * and data lines — metadata an agent reads too) through injection and DLP, then the strings of
 * the texts of the events before it joined with its own (an instruction split over two events). The first
 * finding ends the stream; a clean event is re-emitted in its canonical form, so what the agent
 * receives is exactly what was scanned (comments and unknown fields are not forwarded).
 */
import {parseSseEvent, type SseEventFields} from '../scanner/index.js'
import {A2aState, scanA2aBody, type A2aSettings} from './scan.js'
import {collectLeaves, type A2aScanners} from './walker.js'

/** Bytes of earlier events' strings kept for the cross-event check (§2.9). */
export const A2A_STREAM_TAIL_BYTES = 4096

/**
 * The canonical text of an event: `event:`, `id:`, `retry:` when present, each data line, then the
 * blank line. An event with no field at all (a keep-alive comment) becomes an empty comment.
 */
export function canonicalSseEvent(f: SseEventFields): string {
  let s = ''
  if (f.event !== undefined) s += `event: ${f.event}\n`
  if (f.id !== undefined) s += `id: ${f.id}\n`
  if (f.retry !== undefined) s += `retry: ${f.retry}\n`
  for (const line of f.data) s += `data: ${line}\n`
  return s === '' ? ':\n\n' : `${s}\n`
}

export type A2aStreamResult = {readonly clean: true; readonly out: string} | {readonly clean: false; readonly reason: string}

/** The last `max` bytes of `s` (a split character at the cut is dropped). */
function lastBytes(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8')
  if (b.length <= max) return s
  return b.subarray(b.length - max).toString('utf8').replace(/^\uFFFD/, '')
}

/** One stream's scanner: holds the rolling tail of the events seen so far. */
export class A2aStreamScanner {
  private tail = ''
  // The walk of one event carries no conversation state (smuggling is tracked on whole messages).
  private readonly state = new A2aState()

  constructor(
    private readonly settings: A2aSettings,
    private readonly scanners: A2aScanners,
  ) {}

  async scanEvent(raw: string): Promise<A2aStreamResult> {
    const f = parseSseEvent(raw)
    const payload = f.data.join('\n')
    // (1) the payload through the same walk as a buffered A2A response.
    if (payload.trim() !== '') {
      const v = await scanA2aBody(payload, {...this.settings, sessionSmuggling: false}, this.scanners, this.state)
      if (!v.clean) return {clean: false, reason: v.reason}
    }
    // (2) the event as the agent reads it, metadata included.
    const out = canonicalSseEvent(f)
    const inj = this.scanners.injection(out)
    if (inj.length > 0) return {clean: false, reason: `injection in sse metadata: ${[...new Set(inj)].sort().join(', ')}`}
    const dlp = this.scanners.dlp(out)
    if (dlp.length > 0) return {clean: false, reason: `dlp in sse metadata: ${[...new Set(dlp)].sort().join(', ')}`}
    // (3) an instruction split over events: the earlier events' texts joined with this one's.
    const current = this.textsOf(payload)
    if (current === '') return {clean: true, out}
    if (this.tail !== '' && this.scanners.injection(`${this.tail} ${current}`).length > 0) {
      return {clean: false, reason: 'cross-event injection detected'}
    }
    this.tail = lastBytes(this.tail === '' ? current : `${this.tail} ${current}`, A2A_STREAM_TAIL_BYTES)
    return {clean: true, out}
  }

  /**
   * The text fields of a JSON payload (`text`, `description`, `name`) joined by spaces, or the
   * data itself when it is not JSON. The reference joins every string, keys included, which puts
   * `jsonrpc 2.0 result kind …` between the halves of a split sentence; the texts alone do not.
   */
  private textsOf(payload: string): string {
    let value: unknown
    try {
      value = JSON.parse(payload) as unknown
    } catch {
      return payload.trim()
    }
    try {
      return collectLeaves(value, {scanRawParts: false, maxRawSize: 0}, []).filter((l) => l.cls === 'text').map((l) => l.value).join(' ')
    } catch {
      return '' // over the walk's budget: step (1) has already reported it
    }
  }
}
