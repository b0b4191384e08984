/**
 * Per-field tails of an SSE stream: a token stream sends a sentence one piece per event, each
 * piece in the same place of the event (the `delta.content` string of an OpenAI
 * `chat.completion.chunk`, the `delta.text` of an Anthropic `content_block_delta`, a comment
 * line). The stream tail joins the events' data as written, so the JSON syntax and the other
 * members of every event stand between two pieces; here each field keeps the last
 * `STREAM_TAIL_CHARS` characters of its own values, joined with nothing, and the pieces read whole.
 */
import {STREAM_TAIL_CHARS} from './stream-tail.js'

/** Fields one stream keeps a tail for; the least recently written is dropped beyond it. */
export const STREAM_TAIL_FIELDS = 64

/** A scanned text at most this long is remembered, so that the same text is not scanned again. */
const REMEMBERED_CHARS = 2 * STREAM_TAIL_CHARS

interface FieldTail {
  tail: string
  /** The last text scanned for this field (when short enough to keep), which was clean. */
  scanned: string | null
}

export class EventFieldTails {
  private readonly tails = new Map<string, FieldTail>()

  /**
   * The text to scan for one event's fields (`[field, value]` in event order, values of one field
   * joined with nothing): each field's tail and new value, one field a line; null when every
   * such text is one already scanned clean (a field that repeats one value, such as the
   * `object` of every chunk, settles on the same last 512 characters). Call `settle` with the verdict.
   */
  next(fields: ReadonlyArray<readonly [string, string]>): {text: string | null; settle: (clean: boolean) => void} {
    const joined = new Map<string, string>()
    for (const [f, v] of fields) joined.set(f, (joined.get(f) ?? '') + v)
    const texts: string[] = []
    const written: Array<readonly [string, FieldTail, string]> = []
    for (const [f, v] of joined) {
      if (v === '') continue
      let t = this.tails.get(f)
      if (t === undefined) {
        t = {tail: '', scanned: null}
        if (this.tails.size >= STREAM_TAIL_FIELDS) this.tails.delete(this.tails.keys().next().value as string)
      } else this.tails.delete(f) // re-inserted below: most recently written last
      this.tails.set(f, t)
      const text = t.tail + v
      written.push([f, t, text])
      if (text !== t.scanned) texts.push(text)
    }
    return {
      text: texts.length === 0 ? null : texts.join('\n'),
      settle: (clean: boolean): void => {
        for (const [, t, text] of written) {
          // A hit leaves nothing behind to be found again with the next event.
          t.tail = clean ? text.slice(-STREAM_TAIL_CHARS) : ''
          t.scanned = clean && text.length <= REMEMBERED_CHARS ? text : null
        }
      },
    }
  }
}
