import {closeSync, ftruncateSync, linkSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import path from 'node:path'
import {osErrorReason, PipelockError, shellWord} from '../errors/index.js'
import {classifyLine, LineError, MAX_LINE_BYTES} from '../receipts/index.js'
import {makeDirs} from '../signing/index.js'
import {evidenceDigest, type EvidenceDigest} from './packet-evidence-whole.js'

const FILE_MODE = 0o640
/** The staging directory's name inside --out. */
const STAGE_NAME = '.packet-build'
const COPY_CHUNK = 1 << 20

/**
 * Where `audit packet build` writes: a hidden staging directory inside --out, published file by
 * file with packet.json last, so that a packet.json in --out always means a whole packet. A
 * failed build (disk full, a file size limit, --out not a directory) leaves --out as it was: the
 * staging directory is removed and the error is one WRITE_FAILED line. The staging directory has
 * a fixed name, so creating it claims --out: a second build into the same directory is refused
 * instead of renaming its files over the first one's.
 */
export class PacketStage {
  private constructor(
    private readonly out: string,
    private readonly dir: string,
  ) {}

  static open(out: string): PacketStage {
    const dir = path.join(out, STAGE_NAME)
    try {
      makeDirs(out, 0o750)
      mkdirSync(dir, 0o700)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new PipelockError('FILE_EXISTS', `audit packet build: another build is writing ${out} (${dir} exists)`, {hint: `if no build is running, remove ${shellWord(dir)}`})
      }
      throw packetWriteError(out, e)
    }
    const stage = new PacketStage(out, dir)
    // a build that finished, or a file written, between the caller's check and the claim
    try {
      refuseUsedOut(out)
    } catch (e) {
      stage.discard()
      throw e
    }
    return stage
  }

  /**
   * Copies the evidence files, byte for byte and in order, into evidence.jsonl, whole lines only
   * (packet-evidence-whole.ts): a file whose last line has no newline gets one, except the torn
   * tail of the last file — bytes that do not parse, which the verifier ignores as an interrupted
   * write of a live or crashed recorder — which is not copied. Returns the digest of the result.
   */
  copyEvidence(sources: readonly string[]): EvidenceDigest {
    const buf = Buffer.allocUnsafe(COPY_CHUNK)
    const file = this.path('evidence.jsonl')
    this.guard(() => {
      const fd = openSync(file, 'wx+', FILE_MODE)
      const put = (b: Buffer, n: number): void => {
        for (let off = 0; off < n; ) off += writeSync(fd, b, off, n - off)
      }
      try {
        let written = 0
        let lineStart = 0
        sources.forEach((src, i) => {
          const from = openSync(src, 'r')
          try {
            for (let n = readSync(from, buf, 0, COPY_CHUNK, null); n > 0; n = readSync(from, buf, 0, COPY_CHUNK, null)) {
              put(buf, n)
              const nl = buf.subarray(0, n).lastIndexOf(0x0a)
              if (nl >= 0) lineStart = written + nl + 1
              written += n
            }
          } finally {
            closeSync(from)
          }
          if (written === lineStart) return
          if (i === sources.length - 1 && tornTail(fd, lineStart, written)) {
            ftruncateSync(fd, lineStart)
            written = lineStart
            return
          }
          put(NEWLINE, 1)
          written += 1
          lineStart = written
        })
      } finally {
        closeSync(fd)
      }
    })
    return evidenceDigest(file)
  }

  /** Where a staged file is, until publish. */
  path(name: string): string {
    return path.join(this.dir, name)
  }

  write(name: string, text: string): void {
    this.guard(() => writeFileSync(path.join(this.dir, name), text, {mode: FILE_MODE, flag: 'wx'}))
  }

  /** Moves the staged files into --out, packet.json last; then removes the staging directory. */
  publish(names: readonly string[], marker: string): void {
    this.guard(() => {
      for (const n of names) renameSync(path.join(this.dir, n), path.join(this.out, n))
      try {
        linkSync(path.join(this.dir, marker), path.join(this.out, marker))
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw alreadyBuilt(this.out, marker)
        throw e
      }
    })
    this.discard()
  }

  discard(): void {
    rmSync(this.dir, {recursive: true, force: true})
  }

  private guard(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      throw packetWriteError(this.out, e)
    }
  }
}

const NEWLINE = Buffer.from('\n')

/** The bytes of fd from `start` to `end` (an unterminated last line) do not form a line: the verifier ignores them. */
function tornTail(fd: number, start: number, end: number): boolean {
  if (end - start > MAX_LINE_BYTES) return true
  const tail = Buffer.allocUnsafe(end - start)
  for (let off = 0; off < tail.length; ) off += readSync(fd, tail, off, tail.length - off, start + off)
  const text = tail.toString('utf8').trim()
  if (text === '') return true
  try {
    classifyLine(text)
    return false
  } catch (e) {
    if (e instanceof LineError) return true
    throw e
  }
}

/**
 * --out must be new or empty: `audit packet verify` accepts a directory that holds the packet's
 * four files and nothing else, so a packet built beside other files would be one its own verifier
 * rejects. A packet already there is said as such; the staging directory of a build in progress
 * is left to `PacketStage.open` to report.
 */
export function refuseUsedOut(out: string): void {
  let names: string[]
  try {
    names = readdirSync(out)
  } catch {
    return // not there yet (created), or not a directory (the claim says why it cannot be written)
  }
  if (names.includes('packet.json')) throw alreadyBuilt(out)
  const other = names.filter((n) => n !== STAGE_NAME).sort()
  if (other.length === 0) return
  const shown = other.slice(0, 3).join(', ') + (other.length > 3 ? `, and ${other.length - 3} more` : '')
  throw new PipelockError('FILE_EXISTS', `audit packet build: --out ${out} is not empty (it holds ${shown}); a packet directory holds the packet's files and nothing else, so nothing was written`, {
    hint: 'choose a new or empty --out directory',
  })
}

export function alreadyBuilt(out: string, marker = 'packet.json'): PipelockError {
  return new PipelockError('FILE_EXISTS', `audit packet build: ${path.join(out, marker)} exists; choose an empty --out directory`)
}

function packetWriteError(out: string, e: unknown): PipelockError {
  if (e instanceof PipelockError) return e
  return new PipelockError('WRITE_FAILED', `audit packet build: writing ${out}: ${osErrorReason(e)}; no packet was written`)
}
