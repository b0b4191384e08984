/**
 * The rolling tail of a stream's earlier messages (issue 37 §7), for SSE events and WebSocket
 * messages alike: an injection split across two messages is whole in `tail + data`. Joined with
 * nothing, so a word cut in two is whole again; a cut between words is read by the
 * optional-whitespace pass. The known injection phrases are far shorter than the tail.
 */

/** Characters of the previous messages kept and scanned again in front of the next one. */
export const STREAM_TAIL_CHARS = 512

/** A verdict of `StreamTail.next`: the last scan's, and whether it read the tail too. */
export interface TailVerdict<R> {
  readonly verdict: R
  readonly across: boolean
}

export class StreamTail {
  private tail = ''

  /**
   * `scan(data)`, then, when that is clean, `scan(tail + joinAs)`: the verdict of the last scan run,
   * and whether it read the tail too (`across`). `joinAs` is the message as its reader reads it
   * next to the ones before (a JSON message's string values: its framing would stand between two
   * tokens); `data` itself by default. `streams`: other readings of the stream up to this message
   * (a JSON stream's members, each read as its own stream: `JsonTokenReading`), read after a line
   * break in the same scan; the tail keeps only `tail + joinAs`. The tail keeps the last
   * `STREAM_TAIL_CHARS` characters of what was clean; a hit leaves nothing behind to be found
   * again with the next message. A scan may answer later (a promise: a large message scanned off
   * the event loop); the verdict is then a promise too, and the caller must not pass the next
   * message before it settles.
   */
  next<R>(data: string, scan: (text: string) => R, clean: (r: R) => boolean, joinAs?: string, streams?: string): TailVerdict<R>
  next<R>(data: string, scan: (text: string) => R | Promise<R>, clean: (r: R) => boolean, joinAs?: string, streams?: string): TailVerdict<R> | Promise<TailVerdict<R>>
  next<R>(data: string, scan: (text: string) => R | Promise<R>, clean: (r: R) => boolean, joinAs: string = data, streams?: string): TailVerdict<R> | Promise<TailVerdict<R>> {
    const own = scan(data)
    return own instanceof Promise ? own.then((o) => this.afterOwn(joinAs, o, scan, clean, streams)) : this.afterOwn(joinAs, own, scan, clean, streams)
  }

  private afterOwn<R>(data: string, own: R, scan: (text: string) => R | Promise<R>, clean: (r: R) => boolean, streams: string | undefined): TailVerdict<R> | Promise<TailVerdict<R>> {
    const joined = this.tail + data
    this.tail = clean(own) ? joined.slice(-STREAM_TAIL_CHARS) : ''
    if (!clean(own) || data === '') return {verdict: own, across: false}
    if (joined === data && streams === undefined) return {verdict: own, across: false}
    const done = (across: R): TailVerdict<R> => {
      if (!clean(across)) this.tail = ''
      return {verdict: across, across: true}
    }
    const across = scan(streams === undefined ? joined : `${joined}\n${streams}`)
    return across instanceof Promise ? across.then(done) : done(across)
  }
}
