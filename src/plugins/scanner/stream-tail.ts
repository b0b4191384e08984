/**
 * The rolling tail of a stream's earlier messages (issue 37 §7), for SSE events and WebSocket
 * messages alike: an injection split across two messages is whole in `tail + data`. Joined with
 * nothing, so a word cut in two is whole again; a cut between words is read by the
 * optional-whitespace pass. The known injection phrases are far shorter than the tail.
 */

/** Characters of the previous messages kept and scanned again in front of the next one. */
export const STREAM_TAIL_CHARS = 512

export class StreamTail {
  private tail = ''

  /**
   * `scan(data)`, then, when that is clean, `scan(tail + data)`: the verdict of the last scan run,
   * and whether it read the tail too (`across`). The tail keeps the last `STREAM_TAIL_CHARS`
   * characters of what was clean; a hit leaves nothing behind to be found again with the next
   * message.
   */
  next<R>(data: string, scan: (text: string) => R, clean: (r: R) => boolean): {readonly verdict: R; readonly across: boolean} {
    const own = scan(data)
    const joined = this.tail + data
    this.tail = clean(own) ? joined.slice(-STREAM_TAIL_CHARS) : ''
    if (!clean(own) || joined === data || data === '') return {verdict: own, across: false}
    const across = scan(joined)
    if (!clean(across)) this.tail = ''
    return {verdict: across, across: true}
  }
}
