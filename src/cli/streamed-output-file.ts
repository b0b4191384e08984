import {closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../plugins/errors/index.js'
import {fsyncDir, isDirectory} from '../plugins/signing/index.js'

/** Bytes gathered before one write: few system calls, and memory flat however long the file grows. */
const FLUSH_BYTES = 64 * 1024

/**
 * A file a command writes line by line while asynchronous work runs (a list as long as the
 * evidence, which must not be held in memory): a temp file beside the target, renamed over it by
 * `commit`, so a failure or a kill leaves the previous file (or none), never a torn one, as
 * writeOutputFile does for a file written at once. A write failure is one WRITE_FAILED line
 * naming the target.
 */
export class StreamedOutputFile {
  private readonly tmp: string
  private fd: number | undefined
  private pending: string[] = []
  private pendingBytes = 0

  constructor(
    readonly file: string,
    mode: number,
  ) {
    if (isDirectory(file)) throw new PipelockError('WRITE_FAILED', `writing ${file}: is a directory`, {hint: 'name a file to write, not a directory'})
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${randomBytes(6).toString('hex')}`)
    this.fd = this.attempt(() => {
      const fd = openSync(this.tmp, 'wx', mode)
      // fchmod: the umask neither widens nor narrows the mode
      fchmodSync(fd, mode)
      return fd
    })
  }

  writeLine(line: string): void {
    this.pending.push(line, '\n')
    this.pendingBytes += line.length + 1
    if (this.pendingBytes >= FLUSH_BYTES) this.flush()
  }

  /** Writes what is left, then renames the file into place. */
  commit(): void {
    this.flush()
    const fd = this.fd
    if (fd === undefined) return
    this.fd = undefined
    this.attempt(() => {
      try {
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(this.tmp, this.file)
    })
    fsyncDir(path.dirname(this.file))
  }

  /** Removes the temp file; the target is untouched. A no-op after commit. */
  discard(): void {
    const fd = this.fd
    if (fd === undefined) return
    this.fd = undefined
    try {
      closeSync(fd)
    } catch {
      // already closed
    }
    removeQuietly(this.tmp)
  }

  private flush(): void {
    const fd = this.fd
    if (fd === undefined || this.pending.length === 0) return
    const buf = Buffer.from(this.pending.join(''), 'utf8')
    this.pending = []
    this.pendingBytes = 0
    this.attempt(() => {
      let off = 0
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
    })
  }

  private attempt<T>(f: () => T): T {
    try {
      return f()
    } catch (e) {
      this.discard()
      removeQuietly(this.tmp)
      throw new PipelockError('WRITE_FAILED', `writing ${this.file}: ${osErrorReason(e)}; nothing was written`)
    }
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // already gone
  }
}
