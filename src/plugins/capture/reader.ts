import {createHash} from 'node:crypto'
import {closeSync, openSync, readSync, statSync} from 'node:fs'
import {copyString} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {decodeEntry, EntryDecodeError, entryHash, GENESIS, type HashFields, type RecorderEntry} from './entry.js'
import {decodeWriterCapture, type WriterCapture} from './writer-line.js'

/** Longest line a reader accepts (§4: 16 MiB). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024

/** Where an entry came from: `file` as given by the caller, 1-based `line`. */
export interface EntrySource {
  file: string
  line: number
}

/** Per input file: the compile manifest's input ref (§3 step 5). */
export interface CaptureFileRef {
  path: string
  sha256: string
  /** Lines, not events: `\n` count, +1 for a non-empty unterminated last line. */
  eventCount: number
}

export interface CaptureInput {
  /** Name used in errors and (unless overridden) in the input ref. */
  name: string
  /** Bytes source: a file path, or in-memory bytes. */
  path?: string
  bytes?: Uint8Array
}

/**
 * Verifies hash chains. Each chain is verified on its own (learn-compile §20 Q1 is not
 * reproduced): a file's first entry either starts a chain (`prev_hash: genesis`) or continues the
 * chain of an earlier file (a rotated recorder file links to its predecessor's last hash); inside
 * a file every entry links to the previous one, except that a `genesis` entry starts a new chain
 * (several sessions concatenated into one file).
 */
export class ChainVerifier {
  private tips = new Set<string>()
  private current: string | undefined
  private started = false

  /** Call before the first line of each file. */
  beginFile(): void {
    // Tips are copies: a hash may be a slice of a read chunk's text, which it would keep alive.
    if (this.current !== undefined) this.tips.add(copyString(this.current))
    this.current = undefined
    this.started = false
  }

  /** Throws a chain error message, or returns nothing when the entry links. */
  check(entry: HashFields & {hash: string}): string | undefined {
    if (entry.v !== 1 && entry.v !== 2) return `unsupported entry version v=${entry.v} (want 1 or 2)`
    const computed = entryHash(entry)
    if (computed !== entry.hash) return `hash mismatch at seq ${entry.seq}: recorded ${entry.hash}, computed ${computed}`
    if (!this.started) {
      if (entry.prevHash !== GENESIS) {
        if (!this.tips.has(entry.prevHash)) {
          return `chain break at seq ${entry.seq}: first entry of the file has prev_hash ${entry.prevHash}, which is neither "genesis" nor the last hash of an earlier file`
        }
        this.tips.delete(entry.prevHash)
      }
      this.started = true
    } else if (entry.prevHash === GENESIS) {
      // Another chain starts inside the same file (session files concatenated into one corpus).
      if (this.current !== undefined) this.tips.add(copyString(this.current))
    } else if (entry.prevHash !== this.current) {
      return `chain break at seq ${entry.seq}: prev_hash ${entry.prevHash} does not match the previous entry's hash ${this.current}`
    }
    this.current = entry.hash
    return undefined
  }
}

export interface ReadOptions {
  /** Called for every verified entry, in input order. */
  onEntry: (entry: RecorderEntry, source: EntrySource) => void
  /**
   * When set, a `type: capture` line in the writer's own layout is read without JSON.parse
   * (`decodeWriterCapture`), verified the same way, and handed here instead of to `onEntry`
   * (which still gets every other line, in order).
   */
  onCapture?: (entry: WriterCapture, source: EntrySource) => void
  /** `onCapture` gets the summary's strings as slices of the line, not copies (`decodeWriterCapture`). */
  captureSlices?: boolean
  /** Called once per file after its last line, with its input ref. */
  onFile?: (ref: CaptureFileRef) => void
  /** Read size (default 1 MiB); tests use tiny chunks to exercise line and UTF-8 splits. */
  chunkSize?: number
  /**
   * Awaited after the entries of each read chunk were handed on (and after each file): a
   * consumer with asynchronous work queues entries in `onEntry` and drains them here, so the
   * read never runs ahead of it by more than one chunk.
   */
  afterChunk?: () => Promise<void>
  /** Called with the size of every chunk read (progress reporting). */
  onBytes?: (n: number) => void
  /**
   * When set, a file's last line that has no line break and does not decode (a write cut short
   * by a crash or a full disk) is handed here and left out instead of failing the read. A line
   * that decodes is read as any other, chain check included; a cut line anywhere else still fails.
   */
  onCutLine?: (cut: CutLine) => void
}

/** A file's unterminated last line that did not decode (`ReadOptions.onCutLine`). */
export interface CutLine {
  readonly file: string
  readonly line: number
  readonly bytes: number
  readonly reason: string
}

/** The warning of a capture file's last line cut short (compile and shadow leave it out alike). */
export function cutLineText(c: CutLine): string {
  return `left out the last line of ${c.file} (line ${c.line}, ${c.bytes} bytes, no line break, ${c.reason.replace(/^not a recorder entry: /, '')}): a write cut short by a crash or a full disk`
}

/**
 * Streams the inputs line by line (never holding a whole file), decodes each entry, verifies
 * its hash and chain link, and hands it on. Every failure is a PipelockError naming the file
 * and line: a capture that cannot be verified must not be compiled. Blank lines are skipped.
 */
export async function readCaptureInputs(inputs: readonly CaptureInput[], options: ReadOptions): Promise<void> {
  const chain = new ChainVerifier()
  for (const input of inputs) {
    chain.beginFile()
    // The file's SHA-256 is only for its input ref (`onFile`).
    const digest = options.onFile === undefined ? undefined : createHash('sha256')
    let newlines = 0
    let lastByte = -1
    let total = 0
    let lineNo = 0
    let pending: Buffer[] = []
    let pendingLen = 0

    const handleLine = (line: string): void => {
      lineNo++
      const text = line.endsWith('\r') ? line.slice(0, -1) : line
      if (text.length === 0 || (text.charCodeAt(0) !== 0x7b && text.trim() === '')) return
      if (options.onCapture !== undefined) {
        const c = decodeWriterCapture(text, options.captureSlices === true)
        if (c !== undefined) {
          checkChain(c)
          options.onCapture(c, {file: input.name, line: lineNo})
          return
        }
      }
      let entry: RecorderEntry
      try {
        entry = decodeEntry(text)
      } catch (e) {
        if (e instanceof EntryDecodeError) {
          throw new PipelockError('CAPTURE_LINE_INVALID', `not a recorder entry: ${e.reason}`, {
            location: {file: input.name, line: lineNo},
            hint: 'capture files must hold one hash-chained JSON entry per line, as learn observe writes them',
          })
        }
        throw e
      }
      checkChain(entry)
      options.onEntry(entry, {file: input.name, line: lineNo})
    }

    const checkChain = (entry: HashFields & {hash: string}): void => {
      const problem = chain.check(entry)
      if (problem !== undefined) {
        throw new PipelockError('CAPTURE_CHAIN_BROKEN', problem, {
          location: {file: input.name, line: lineNo},
          hint: 'the capture was edited, truncated or reordered; re-capture or remove the damaged file',
        })
      }
    }

    // Whole lines of a chunk are decoded to text in one go (cheaper than one decode per line);
    // the unterminated tail is carried as bytes so a UTF-8 sequence is never split.
    const consume = (chunk: Buffer): void => {
      digest?.update(chunk)
      total += chunk.length
      lastByte = chunk[chunk.length - 1] as number
      const lastNl = chunk.lastIndexOf(0x0a)
      if (lastNl < 0) {
        pendingLen += chunk.length
        if (pendingLen > MAX_LINE_BYTES) {
          throw new PipelockError('LINE_TOO_LONG', `line longer than ${MAX_LINE_BYTES} bytes`, {location: {file: input.name, line: lineNo + 1}})
        }
        pending.push(Buffer.from(chunk)) // copy: the stream may reuse its buffer
        return
      }
      let text: string
      if (pendingLen > 0) {
        pending.push(chunk.subarray(0, lastNl + 1))
        text = decodeText(Buffer.concat(pending))
        pending = []
        pendingLen = 0
      } else text = decodeText(chunk.subarray(0, lastNl + 1))
      let start = 0
      for (;;) {
        const nl = text.indexOf('\n', start)
        if (nl < 0) break
        newlines++
        handleLine(text.slice(start, nl))
        start = nl + 1
      }
      if (lastNl + 1 < chunk.length) {
        const rest = chunk.subarray(lastNl + 1)
        pendingLen = rest.length
        if (pendingLen > MAX_LINE_BYTES) {
          throw new PipelockError('LINE_TOO_LONG', `line longer than ${MAX_LINE_BYTES} bytes`, {location: {file: input.name, line: lineNo + 1}})
        }
        pending.push(Buffer.from(rest))
      }
    }

    if (input.bytes !== undefined) {
      if (input.bytes.length > 0) consume(Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength))
      options.onBytes?.(input.bytes.length)
      if (options.afterChunk !== undefined) await options.afterChunk()
    } else {
      // Synchronous reads into one buffer (consume copies what it keeps): a stream's read goes
      // through the thread pool, ≈ 3× the CPU per 64 KiB chunk and a scheduling round trip each
      // on a busy machine (bench: shadow; `learn shadow` reads in 64 KiB chunks).
      let fd: number | undefined
      try {
        fd = openSync(input.path ?? input.name, 'r')
        const buf = Buffer.allocUnsafe(options.chunkSize ?? 1 << 20)
        for (;;) {
          const n = readSync(fd, buf, 0, buf.length, null)
          if (n === 0) break
          consume(buf.subarray(0, n))
          options.onBytes?.(n)
          if (options.afterChunk !== undefined) await options.afterChunk()
        }
      } catch (e) {
        if (e instanceof PipelockError) throw e
        const err = e as NodeJS.ErrnoException
        throw new PipelockError(err.code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `cannot read capture file: ${err.message}`, {
          location: {file: input.name},
        })
      } finally {
        if (fd !== undefined) closeSync(fd)
      }
    }
    if (pendingLen > 0) {
      try {
        handleLine(Buffer.concat(pending, pendingLen).toString('utf8'))
      } catch (e) {
        if (options.onCutLine === undefined || !(e instanceof PipelockError) || e.code !== 'CAPTURE_LINE_INVALID') throw e
        options.onCutLine({file: input.name, line: lineNo, bytes: pendingLen, reason: e.message})
      }
    }
    if (options.afterChunk !== undefined) await options.afterChunk()
    options.onFile?.({
      path: input.name,
      sha256: 'sha256:' + (digest as NonNullable<typeof digest>).digest('hex'),
      eventCount: newlines + (total > 0 && lastByte !== 0x0a ? 1 : 0),
    })
  }
}

const {isAscii} = process.getBuiltinModule('node:buffer') as typeof import('node:buffer')

/**
 * UTF-8 bytes as text. Capture lines are nearly always ASCII, whose UTF-8 is its Latin-1: then
 * the text is a copy of the bytes instead of a UTF-8 decode (≈ 1 GB/s here; the ASCII check is a
 * vector pass; bench: compile).
 */
function decodeText(bytes: Buffer): string {
  return isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8')
}

/**
 * Adapts a `(bytesRead, bytesTotal, items)` progress callback to the reader's running byte
 * count: the total is the size of `files` at the start (a file that cannot be stat'ed counts 0;
 * reading it reports the error).
 */
export function progressOverFiles(files: readonly string[], report: (bytesRead: number, bytesTotal: number, items: number) => void): (bytesRead: number, items: number) => void {
  let total = 0
  for (const f of files) {
    try {
      total += statSync(f).size
    } catch {
      // counted as 0
    }
  }
  return (bytesRead, items) => report(bytesRead, total, items)
}
