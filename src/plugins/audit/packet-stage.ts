import {closeSync, existsSync, linkSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync, writeSync} from 'node:fs'
import {createHash} from 'node:crypto'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {makeDirs} from '../signing/index.js'

const FILE_MODE = 0o640
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
    const dir = path.join(out, '.packet-build')
    try {
      makeDirs(out, 0o750)
      mkdirSync(dir, 0o700)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new PipelockError('FILE_EXISTS', `audit packet build: another build is writing ${out} (${dir} exists)`, {hint: `if no build is running, remove ${dir}`})
      }
      throw packetWriteError(out, e)
    }
    const stage = new PacketStage(out, dir)
    // a build that finished between the caller's check and the claim
    if (existsSync(path.join(out, 'packet.json'))) {
      stage.discard()
      throw alreadyBuilt(out)
    }
    return stage
  }

  /** Copies the evidence files, byte for byte and in order, into evidence.jsonl; returns its SHA-256 (hex). */
  copyEvidence(sources: readonly string[]): string {
    const hash = createHash('sha256')
    const buf = Buffer.allocUnsafe(COPY_CHUNK)
    this.guard(() => {
      const fd = openSync(path.join(this.dir, 'evidence.jsonl'), 'wx', FILE_MODE)
      try {
        for (const src of sources) {
          const from = openSync(src, 'r')
          try {
            for (let n = readSync(from, buf, 0, COPY_CHUNK, null); n > 0; n = readSync(from, buf, 0, COPY_CHUNK, null)) {
              hash.update(buf.subarray(0, n))
              for (let off = 0; off < n; ) off += writeSync(fd, buf, off, n - off)
            }
          } finally {
            closeSync(from)
          }
        }
      } finally {
        closeSync(fd)
      }
    })
    return hash.digest('hex')
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

export function alreadyBuilt(out: string, marker = 'packet.json'): PipelockError {
  return new PipelockError('FILE_EXISTS', `audit packet build: ${path.join(out, marker)} exists; choose an empty --out directory`)
}

function packetWriteError(out: string, e: unknown): PipelockError {
  if (e instanceof PipelockError) return e
  return new PipelockError('WRITE_FAILED', `audit packet build: writing ${out}: ${osErrorReason(e)}; no packet was written`)
}
