import {closeSync, constants, fchmodSync, fsyncSync, fstatSync, ftruncateSync, openSync, readSync, writeSync} from 'node:fs'
import path from 'node:path'
import {formatGoTime, fromEpochNanos, type Clock} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {appendWhole, BackgroundSync, chainFilesInDir, parseRecorderEntry, RecorderEntryChain, type EntryInput, type TornTail} from '../receipts/index.js'
import {type Ed25519KeyPair, escrowSealer, makeDirs, signBytes} from '../signing/index.js'
import {acquireWriterLock} from './writer-lock.js'
import {WriteStreak, type WriteHealthChange} from './write-streak.js'

// The flight recorder (runtime.md §21.1, receipts.md §7.3–7.4): an append-only JSONL evidence
// log, `evidence-<session>-<first seq>.jsonl`, entries hash-chained across files, checkpoints
// every `checkpointInterval` entries and on close. It resumes the chain after a restart.

export interface FlightRecorderOptions {
  dir: string
  sessionId?: string
  /** 0o600 (default), 0o640 or 0o660. */
  fileMode?: number
  maxEntriesPerFile?: number
  checkpointInterval?: number
  /** Signs checkpoints (hex Ed25519 over the ASCII prev_hash) when given. */
  checkpointKey?: Ed25519KeyPair
  /**
   * `entry`: fsync after every entry; `checkpoint` (default): at checkpoints (in the background,
   * background-sync.ts), rotation and close.
   */
  fsync?: 'entry' | 'checkpoint'
  clock: Clock
  /**
   * Raw escrow (policy-extra.md §3.4): every entry except checkpoints first seals its unredacted
   * detail to this X25519 public key in `evidence-<session>-<seq>.raw.enc`, named by `raw_ref`.
   */
  escrowPublicKey?: Uint8Array
  /**
   * Told when writing stops (the first entry of a streak that could not be written) and when it
   * works again, so the owner can tell the operator: a decision the recorder could not write is
   * still answered (receipts.md §8: receipts are evidence, not enforcement), and the chain shows
   * a gap where it would have been.
   */
  onWriteHealth?: (change: WriteHealthChange) => void
}

export interface ResumeInfo {
  /** The file resumed, or undefined for a fresh recorder. */
  file?: string
  nextSeq: bigint
  /** Bytes of a torn last line removed on resume (a write interrupted by a crash). */
  truncatedBytes: number
}

export interface AppendedEntry {
  seq: bigint
  hash: string
  file: string
}

const ALLOWED_MODES = new Set([0o600, 0o640, 0o660])

type RecorderSettings = Required<Omit<FlightRecorderOptions, 'checkpointKey' | 'escrowPublicKey' | 'onWriteHealth'>> & Pick<FlightRecorderOptions, 'checkpointKey' | 'escrowPublicKey' | 'onWriteHealth'>

export class FlightRecorder {
  private fd = -1
  private file = ''
  private entriesInFile = 0
  private sinceCheckpoint = 0
  private checkpointFirst: bigint
  private closed = false
  /** Checkpoint fsyncs in flight on the thread pool. */
  readonly background = new BackgroundSync()
  /** Releases the one-writer lock of the session (writer-lock.ts). */
  private release: () => void = () => undefined
  /** A line cut short at the end of the open file, still to be removed (appendWhole). */
  private torn: TornTail = {bytes: 0}
  /** Entries not written since writing last worked (0 while it works), and in all. */
  /** Entries not written since writing last worked, and in all (reported through onWriteHealth). */
  private readonly health: WriteStreak

  private constructor(
    private readonly opts: RecorderSettings,
    private readonly chain: RecorderEntryChain,
    private nextSeq: bigint,
    readonly resume: ResumeInfo,
  ) {
    this.checkpointFirst = nextSeq
    this.health = new WriteStreak(opts.onWriteHealth)
    if (opts.escrowPublicKey !== undefined) this.sealer = escrowSealer(opts.escrowPublicKey)
  }

  /** Raw escrow: seals a detail to the configured public key (undefined when escrow is off). */
  private readonly sealer: ((plain: Uint8Array) => Buffer) | undefined

  /** Opens (or resumes) the recorder. Fails fast when the directory is not writable. */
  static async open(options: FlightRecorderOptions): Promise<FlightRecorder> {
    const opts = {
      sessionId: 'proxy',
      fileMode: 0o600,
      maxEntriesPerFile: 10_000,
      checkpointInterval: 1_000,
      fsync: 'checkpoint' as const,
      ...options,
    }
    if (!ALLOWED_MODES.has(opts.fileMode)) {
      throw new PipelockError('CONFIG_INVALID', `flight_recorder.file_mode must be 0600, 0640 or 0660, got 0${opts.fileMode.toString(8)}`)
    }
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(opts.sessionId)) throw new PipelockError('CONFIG_INVALID', `flight recorder session id ${JSON.stringify(opts.sessionId)} is not a safe file name part`)
    try {
      makeDirs(opts.dir, 0o750)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `flight recorder: cannot create ${opts.dir}: ${(e as Error).message}`)
    }
    const release = acquireWriterLock(opts.dir, opts.sessionId)
    try {
      return await FlightRecorder.resume(opts, release)
    } catch (e) {
      release()
      throw e
    }
  }

  private static async resume(opts: RecorderSettings, release: () => void): Promise<FlightRecorder> {
    const files = await chainFilesInDir(opts.dir, opts.sessionId)
    const last = files[files.length - 1]
    let chain = new RecorderEntryChain(opts.sessionId)
    let nextSeq = 0n
    const resume: ResumeInfo = {nextSeq: 0n, truncatedBytes: 0}
    let entriesInLast = 0
    if (last !== undefined) {
      const tail = readTail(last)
      resume.file = last
      resume.truncatedBytes = tail.tornBytes
      entriesInLast = tail.lines
      if (tail.lastLine !== undefined) {
        let entry
        try {
          entry = parseRecorderEntry(tail.lastLine)
        } catch (e) {
          throw new PipelockError('RECORDER_ENTRY_INVALID', `flight recorder: cannot resume from ${last}: last entry: ${(e as Error).message}`)
        }
        nextSeq = BigInt(entry.seq) + 1n
        chain = new RecorderEntryChain(opts.sessionId, {seq: nextSeq, prevHash: entry.hash})
      }
    }
    resume.nextSeq = nextSeq
    const rec = new FlightRecorder(opts, chain, nextSeq, resume)
    rec.release = release
    if (last !== undefined && entriesInLast < opts.maxEntriesPerFile) rec.openFile(last, entriesInLast)
    else rec.openFile(path.join(opts.dir, `evidence-${opts.sessionId}-${nextSeq}.jsonl`), 0)
    return rec
  }

  /** Entries (receipts, decisions, checkpoints) that could not be written since the recorder opened. */
  get writeFailures(): number {
    return this.health.writeFailures
  }

  /** Whether the last write failed (and none has worked since). */
  get failing(): boolean {
    return this.health.failing
  }

  get currentFile(): string {
    return this.file
  }

  get sessionId(): string {
    return this.opts.sessionId
  }

  get dir(): string {
    return this.opts.dir
  }

  /** Flushes the open file to disk now. */
  sync(): void {
    if (!this.closed && this.fd >= 0) fsyncSync(this.fd)
  }

  private openFile(file: string, entries: number): void {
    if (this.fd >= 0) {
      const old = this.fd
      // Forgotten before anything can fail: a descriptor number is never used after its close
      // (the kernel hands it to the next file or socket the process opens).
      this.fd = -1
      try {
        fsyncSync(old)
      } finally {
        closeSync(old)
      }
    }
    try {
      // O_NOFOLLOW: a symlink planted in the evidence directory is never written through.
      this.fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, this.opts.fileMode)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `flight recorder: cannot open ${file}: ${(e as Error).message}`)
    }
    this.file = file
    this.torn = {bytes: 0}
    this.entriesInFile = entries
  }

  /**
   * Appends one entry (and a checkpoint when the interval is reached). Throws when the entry could
   * not be written; the recorder keeps working and the next append tries again.
   */
  append(input: EntryInput): AppendedEntry {
    if (this.closed) throw new PipelockError('WRITE_FAILED', 'flight recorder is closed')
    let written: AppendedEntry
    try {
      this.background.check()
      if (this.fd < 0 || this.entriesInFile >= this.opts.maxEntriesPerFile) {
        this.openFile(path.join(this.opts.dir, `evidence-${this.opts.sessionId}-${this.nextSeq}.jsonl`), 0)
      }
      written = this.write(this.sealer === undefined ? input : this.escrow(input, this.sealer))
      if (this.opts.fsync === 'entry') fsyncSync(this.fd)
    } catch (e) {
      this.health.failed(e)
      throw e
    }
    this.health.worked()
    this.sinceCheckpoint++
    if (this.sinceCheckpoint >= this.opts.checkpointInterval) {
      // The entry is written: a checkpoint that cannot be is reported, and tried again at the next append.
      try {
        this.checkpoint()
      } catch (e) {
        this.health.failed(e)
      }
    }
    return written
  }

  /** Writes one line whole, or leaves no part of it (appendWhole: a fragment would break every later line). */
  private writeLine(text: string): void {
    if (this.fd < 0) throw new PipelockError('WRITE_FAILED', 'flight recorder: no evidence file is open')
    appendWhole(this.fd, text, this.torn)
  }

  /** Seals the entry's raw detail to its sidecar and names it in `raw_ref` (a failure aborts the append). */
  private escrow(input: EntryInput, seal: (plain: Uint8Array) => Buffer): EntryInput {
    const name = `evidence-${this.opts.sessionId}-${this.chain.nextSeq}.raw.enc`
    const file = path.join(this.opts.dir, name)
    let fd = -1
    try {
      const sealed = seal(Buffer.from(input.rawDetailJson ?? input.detailJson, 'utf8'))
      fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, this.opts.fileMode)
      writeSync(fd, sealed)
      fchmodSync(fd, this.opts.fileMode)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `write raw escrow: ${(e as Error).message}`)
    } finally {
      if (fd >= 0) closeSync(fd)
    }
    return {...input, rawRef: name}
  }

  private write(input: EntryInput): AppendedEntry {
    const {line, seq, hash} = this.chain.next(input)
    // The chain has moved on (a failed write leaves a gap, never a fork: receipts.md §8), and so
    // does the sequence the next file is named by.
    this.nextSeq = seq + 1n
    this.writeLine(line + '\n')
    this.entriesInFile++
    return {seq, hash, file: this.file}
  }

  /** Writes a checkpoint entry covering the entries since the last one (no-op when none). */
  checkpoint(): void {
    if (this.sinceCheckpoint === 0) return
    const ts = formatGoTime(fromEpochNanos(this.opts.clock.nowNanos()))
    const key = this.opts.checkpointKey
    const {line, seq} = this.chain.checkpoint(ts, this.checkpointFirst, key === undefined ? undefined : (prev) => signBytes(key, Buffer.from(prev, 'ascii')).toString('hex'))
    this.nextSeq = seq + 1n
    this.writeLine(line + '\n')
    this.background.request(this.file)
    this.entriesInFile++
    this.checkpointFirst = this.nextSeq
    this.sinceCheckpoint = 0
  }

  /** Writes the closing checkpoint and closes; the file and the writer lock are let go even when the disk refuses the checkpoint. */
  close(): void {
    if (this.closed) return
    this.closed = true
    try {
      if (this.fd >= 0) {
        const pending = this.sinceCheckpoint > 0
        this.checkpoint()
        fsyncSync(this.fd)
        if (pending) this.health.worked()
      }
    } catch (e) {
      this.health.failed(e)
    } finally {
      if (this.fd >= 0) closeSync(this.fd)
      this.fd = -1
      this.release()
    }
  }
}

/**
 * Reads a recorder file's entry count and last complete line. A last line without its newline
 * was interrupted mid-write: it is cut off (never acknowledged) so the file stays verifiable.
 */
function readTail(file: string): {lines: number; lastLine?: string; tornBytes: number} {
  const fd = openSync(file, constants.O_RDWR | constants.O_NOFOLLOW)
  try {
    const size = fstatSync(fd).size
    const buf = Buffer.allocUnsafe(1 << 20)
    let pos = 0
    let lines = 0
    let lastStart = -1
    let lastEnd = -1
    let lineStart = 0
    while (pos < size) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, size - pos), pos)
      for (let i = 0; i < n; i++) {
        if (buf[i] === 0x0a) {
          const end = pos + i
          if (end > lineStart) {
            lines++
            lastStart = lineStart
            lastEnd = end
          }
          lineStart = end + 1
        }
      }
      pos += n
    }
    const tornBytes = size - lineStart
    if (tornBytes > 0) {
      ftruncateSync(fd, lineStart)
      fsyncSync(fd)
    }
    if (lastStart < 0) return {lines, tornBytes}
    const len = lastEnd - lastStart
    const line = Buffer.allocUnsafe(len)
    readSync(fd, line, 0, len, lastStart)
    return {lines, lastLine: line.toString('utf8'), tornBytes}
  } finally {
    closeSync(fd)
  }
}
