import type {Readable} from 'node:stream'

/** Reads a stream fully, or returns null (and destroys it) once it exceeds `cap` bytes. */
export async function readCapped(stream: Readable, cap: number): Promise<Buffer | null> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const c of stream) {
      const buf = c as Buffer
      size += buf.length
      if (size > cap) {
        stream.destroy()
        return null
      }
      chunks.push(buf)
    }
  } catch {
    return null
  }
  return Buffer.concat(chunks)
}
