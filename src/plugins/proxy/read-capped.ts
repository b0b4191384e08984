import type {Readable} from 'node:stream'

const ignore = (): void => {}

/**
 * The largest announced length read into one buffer up front. An upstream may announce a length
 * it never sends: without this bound, each such response would hold a buffer of up to `cap`
 * (max_response_mb) while it stalls. Longer bodies are kept as chunks, as without `expected`.
 */
const PREALLOCATE_MAX = 1 << 20

/**
 * What becomes of a stream that exceeds its cap: `destroy` (an upstream response: nothing more of
 * it is wanted) or `discard` (an agent's request: the rest is read and dropped, so the connection
 * stays open for the block answer — destroying it left the agent an empty reply).
 */
export type Overflow = 'destroy' | 'discard'

export interface ReadCappedOptions {
  /** The length the sender announced (see below). */
  readonly expected?: number | undefined
  /** What becomes of a stream over `cap` (default `destroy`). */
  readonly overflow?: Overflow
  /** `exceeded` set when null came from the cap, not from a failure; `idle` when from the idle bound. */
  readonly why?: {exceeded: boolean; idle?: boolean}
  /** The longest wait for the next chunk (none when absent): past it the stream is destroyed and the read fails. */
  readonly idleMs?: number | undefined
}

/**
 * Reads a stream fully, or returns null once it exceeds `cap` bytes (then `overflow` says what
 * becomes of it, and `why.exceeded` is set) or fails.
 * Plain 'data'/'end' listeners rather than `for await`: this runs for every buffered response,
 * and an async iterator costs a promise per chunk plus its own state machine.
 *
 * `expected`: the length the sender announced (a response's Content-Length). When it is within
 * `cap` and `PREALLOCATE_MAX`, the bytes are copied into one buffer of that length as each chunk arrives (issue 36:
 * while the chunk is still in cache, and each chunk is dropped at once) instead of keeping every
 * chunk for a `Buffer.concat` at the end — on a 64 KiB page whose chunks waited behind other
 * responses' scans, that final copy cost about twice as much. A body that turns out longer than
 * announced goes on as chunks, so the cap alone decides; a shorter one is returned as read.
 */
export function readCapped(stream: Readable, cap: number, o: ReadCappedOptions = {}): Promise<Buffer | null> {
  const {expected, overflow = 'destroy', why, idleMs} = o
  return new Promise((resolve) => {
    // Only a reader that asked for it pays for a timer (most bodies are bounded by their client's own).
    const idle = idleMs === undefined ? null : setTimeout(() => {
      if (why !== undefined) why.idle = true
      stream.destroy(new Error('no data within the idle timeout'))
    }, idleMs)
    let whole: Buffer | null = expected !== undefined && Number.isSafeInteger(expected) && expected > 0 && expected <= cap && expected <= PREALLOCATE_MAX ? Buffer.allocUnsafe(expected) : null
    const chunks: Buffer[] = []
    let size = 0
    const done = (v: Buffer | null): void => {
      if (idle !== null) clearTimeout(idle)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      resolve(v)
    }
    const onData = (c: Buffer): void => {
      idle?.refresh()
      if (size + c.length > cap) {
        if (why !== undefined) why.exceeded = true
        done(null)
        // An undici body destroyed before its end emits an abort error, and an agent may hang up
        // while its rest is dropped: nobody is left to hear either.
        stream.on('error', ignore)
        if (overflow === 'destroy') stream.destroy()
        else stream.resume()
        return
      }
      if (whole !== null) {
        if (size + c.length <= whole.length) {
          c.copy(whole, size)
          size += c.length
          return
        }
        // Longer than announced: the bytes so far become the first chunk.
        chunks.push(whole.subarray(0, size))
        whole = null
      }
      chunks.push(c)
      size += c.length
    }
    const onEnd = (): void => {
      if (whole !== null) return done(size === whole.length ? whole : whole.subarray(0, size))
      done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    }
    const onError = (): void => done(null)
    // Destroyed without 'end' (client gone, aborted upstream): nothing complete to return.
    const onClose = (): void => done(null)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}
