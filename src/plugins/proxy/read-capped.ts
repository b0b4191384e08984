import type {Readable} from 'node:stream'

/**
 * Reads a stream fully, or returns null (and destroys it) once it exceeds `cap` bytes or fails.
 * Plain 'data'/'end' listeners rather than `for await`: this runs for every buffered response,
 * and an async iterator costs a promise per chunk plus its own state machine.
 */
export function readCapped(stream: Readable, cap: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (v: Buffer | null): void => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
      resolve(v)
    }
    const onData = (c: Buffer): void => {
      size += c.length
      if (size > cap) {
        done(null)
        stream.destroy()
        return
      }
      chunks.push(c)
    }
    const onEnd = (): void => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
    const onError = (): void => done(null)
    // Destroyed without 'end' (client gone, aborted upstream): nothing complete to return.
    const onClose = (): void => done(null)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onError)
    stream.on('close', onClose)
  })
}
