import {closeSync, fsyncSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync} from 'node:fs'
import path from 'node:path'
import {UtcNanoFormatter, type Clock} from '../canonical/index.js'
import {appendWhole, BackgroundSync, RecorderEntryChain, type TornTail} from '../receipts/index.js'
import {makeDirs, sealedBoxSealer, sha256Hex} from '../signing/index.js'
import {prepareCaptureDir} from './capture-dir.js'
import {decodeEntry, GENESIS} from './entry.js'
import {isSafeSessionId} from './session-id.js'
import {summaryJson, type CaptureSummary} from './summary.js'

export const LINES_PER_FILE = 10_000
export const CHECKPOINT_EVERY = 1_000
export const CAPTURE_META_SESSION = 'capture-meta'

export interface CaptureWriterOptions {
  clock: Clock
  /** File mode for new capture files: 0o600 (default), 0o640 or 0o660. */
  fileMode?: 0o600 | 0o640 | 0o660
  /** `always` fsyncs after every append; `checkpoint` (default) at checkpoints, rotation and close. */
  fsync?: 'always' | 'checkpoint'
  linesPerFile?: number
  checkpointEvery?: number
  /**
   * Buffer appended lines until `flush()` (or a checkpoint, rotation or close) and write them with
   * one system call: the proxy's capture sink flushes once per event-loop turn.
   */
  batch?: boolean
  /**
   * X25519 public key of the capture escrow (`run --capture-escrow-public-key`): a record given a
   * `payload` gets a sealed-box sidecar `%06d.payload.enc` beside its session's files (§2.1).
   */
  escrowPublicKey?: Uint8Array
}

/** One observation to record. `detail` is the capture summary of §2.5. */
export interface CaptureRecordInput {
  sessionId: string
  traceId?: string
  transport: string
  /** Envelope summary; default `<subsurface>:<effective_action>`. */
  summary?: string
  detail: CaptureSummary
  /**
   * The bytes the deciding scanner read. Only with `escrowPublicKey`: sealed into the session's
   * next sidecar, named by `payload_ref` with its `payload_sha256` and `payload_bytes`; never
   * written in clear. Ignored without a key.
   */
  payload?: Uint8Array
}

export interface CaptureWriter {
  /** Appends one record; returns false when it was dropped (unsafe session id, closed writer). */
  append(record: CaptureRecordInput): boolean
  /** Writes the lines buffered by `batch` mode. */
  flush(): void
  /** Writes final checkpoints and drop sentinel, fsyncs and closes every file. */
  close(): void
  /** Counts one record dropped before it reached the writer (queue overflow), with its sentinel. */
  noteDropped(): void
  /** Records dropped so far. */
  readonly dropped: number
  /** The last I/O error that made an append drop its record. */
  readonly lastError: Error | undefined
}

interface Recorder {
  dir: string
  sessionId: string
  fd: number | undefined
  /** The file `fd` writes. */
  file: string
  linesInFile: number
  /** Line encoding, seq and hash chain: the recorder entry format shared with the flight recorder. */
  chain: RecorderEntryChain
  sinceCheckpoint: number
  checkpointFirst: bigint
  /** Lines not yet written (batch mode), the capture records among them, and the chain before the first. */
  pending: string[]
  pendingRecords: number
  pendingFrom: {seq: bigint; prevHash: string} | undefined
  /** A line cut short at the end of `file`, still to be removed (appendWhole). */
  torn: TornTail
  /** The ordinal of the session's next payload sidecar. */
  nextSidecar: number
}

const ENTRY_FILE = /^evidence-(.+)-(\d+)\.jsonl$/
const SIDECAR_FILE = /^(\d{6,})\.payload\.enc$/

/** `%06d.payload.enc` (learn-compile §2.1). */
export function sidecarName(ordinal: number): string {
  return `${String(ordinal).padStart(6, '0')}.payload.enc`
}

/**
 * The recorder side of learn observe (§2.1–§2.4): one hash chain per session directory,
 * `evidence-<session>-<seqStart>.jsonl` rotated every 10000 lines, a checkpoint every 1000
 * entries and on close, and drop sentinels under `capture-meta/`. Appends are synchronous
 * whole-line writes, so a crash can at most tear the last line, never interleave two.
 */
export function openCaptureWriter(dir: string, options: CaptureWriterOptions): CaptureWriter {
  const mode = options.fileMode ?? 0o600
  const linesPerFile = options.linesPerFile ?? LINES_PER_FILE
  const checkpointEvery = options.checkpointEvery ?? CHECKPOINT_EVERY
  const recorders = new Map<string, Recorder>()
  let dropped = 0
  let closed = false
  let lastError: Error | undefined
  const background = new BackgroundSync()
  const seal = options.escrowPublicKey === undefined ? undefined : sealedBoxSealer(options.escrowPublicKey)
  // 0700, not the reference's 0750: a capture directory describes everything an agent did.
  prepareCaptureDir(dir)

  // Go's RFC3339Nano in UTC, the calendar part rendered once per second; entries skip the re-parse.
  const clockText = new UtcNanoFormatter()
  const now = (): string => clockText.format(options.clock.nowNanos())

  const recorderFor = (sessionId: string): Recorder => {
    let r = recorders.get(sessionId)
    if (r !== undefined) return r
    const sdir = path.join(dir, sessionId)
    makeDirs(sdir, 0o700)
    r = {dir: sdir, sessionId, fd: undefined, file: '', linesInFile: 0, chain: new RecorderEntryChain(sessionId), sinceCheckpoint: 0, checkpointFirst: 0n, pending: [], pendingRecords: 0, pendingFrom: undefined, torn: {bytes: 0}, nextSidecar: 0}
    resume(r)
    recorders.set(sessionId, r)
    return r
  }

  // A restarted recorder continues the chain from the last entry of its highest file.
  const resume = (r: Recorder): void => {
    let best: {n: bigint; name: string} | undefined
    for (const name of readdirSync(r.dir)) {
      // A restarted session numbers its sidecars after the ones already there (never overwrites one).
      const sc = SIDECAR_FILE.exec(name)
      if (sc !== null) r.nextSidecar = Math.max(r.nextSidecar, Number(sc[1]) + 1)
      const m = ENTRY_FILE.exec(name)
      if (m === null || m[1] !== r.sessionId) continue
      const n = BigInt(m[2] as string)
      if (best === undefined || n > best.n) best = {n, name}
    }
    if (best === undefined) return
    const file = path.join(r.dir, best.name)
    const bytes = readFileSync(file)
    // A crash can leave a torn last line (no newline): cut it off so the file stays readable,
    // and continue the chain from the last complete entry.
    const end = bytes.lastIndexOf(0x0a) + 1
    if (end < bytes.length) truncateSync(file, end)
    const lines = bytes.toString('utf8', 0, end).split('\n').filter((l) => l.trim() !== '')
    const last = lines[lines.length - 1]
    if (last === undefined) return
    try {
      const e = decodeEntry(last)
      r.chain = new RecorderEntryChain(r.sessionId, {seq: BigInt(e.seq) + 1n, prevHash: e.hash})
    } catch {
      // An unreadable tail cannot be linked to: start a fresh chain after it (the reader
      // accepts a genesis entry inside a file).
      r.chain = new RecorderEntryChain(r.sessionId, {seq: best.n + BigInt(lines.length), prevHash: GENESIS})
    }
    r.checkpointFirst = r.chain.nextSeq
  }

  // Rotation happens before the entry is built: a file is named after its first seq.
  const rotateIfFull = (r: Recorder): number => {
    if (r.fd === undefined || r.linesInFile >= linesPerFile) {
      flushRecorder(r)
      if (r.fd !== undefined) {
        const old = r.fd
        // Forgotten before anything can fail: the number may belong to another file or socket after its close.
        r.fd = undefined
        try {
          fsyncSync(old)
        } finally {
          closeSync(old)
        }
      }
      r.file = path.join(r.dir, `evidence-${r.sessionId}-${r.chain.nextSeq}.jsonl`)
      r.fd = openSync(r.file, 'a', mode)
      r.torn = {bytes: 0}
      r.linesInFile = 0
    }
    return r.fd
  }

  /**
   * Writes the batch. A batch the disk refuses is not in the file (appendWhole leaves no part of
   * it): the chain goes back to before it, so the file stays one unbroken chain that compile reads
   * (a broken link is fatal there, learn-compile §4), and its records are counted as dropped.
   */
  function flushRecorder(r: Recorder): void {
    if (r.pending.length === 0 || r.fd === undefined) return
    const lines = r.pending
    const records = r.pendingRecords
    const from = r.pendingFrom
    r.pending = []
    r.pendingRecords = 0
    r.pendingFrom = undefined
    try {
      appendWhole(r.fd, lines.join(''), r.torn)
    } catch (e) {
      if (from !== undefined) r.chain.rewind(from)
      r.linesInFile -= lines.length
      try {
        dropMany(records)
      } catch {
        // The sentinel is refused too: the count stands, the batch's error is the one reported.
      }
      throw e
    }
  }

  /**
   * Writes (or, batched, queues) one entry of `r`'s chain. An entry the disk refuses leaves no
   * trace: the chain is as before it (flushRecorder).
   */
  const writeChained = (r: Recorder, fd: number, make: () => string, record: boolean): void => {
    const at = r.chain.position()
    const line = make() + '\n'
    if (options.batch === true) {
      if (r.pending.length === 0) r.pendingFrom = at
      r.pending.push(line)
      if (record) r.pendingRecords++
    } else {
      try {
        appendWhole(fd, line, r.torn)
      } catch (e) {
        r.chain.rewind(at)
        throw e
      }
    }
    if (options.fsync === 'always') fsyncSync(fd)
    r.linesInFile++
  }

  const writeEntry = (r: Recorder, type: string, eventKind: string, transport: string, summary: string, detailJson: string, traceId: string): void => {
    const fd = rotateIfFull(r)
    writeChained(r, fd, () => r.chain.next({ts: now(), tsCanonical: true, type, eventKind, transport, summary, detailJson, traceId}).line, type === 'capture')
  }

  /**
   * Seals `payload` into the session's next sidecar (mode as the capture files, created
   * exclusively) and returns the summary fields that name it. Only ciphertext reaches the disk.
   * A write that fails (a full disk) removes what it wrote: a cut-short sidecar would hold the
   * name the next payload's sidecar needs, and every later one of the session would be refused.
   * (A kill mid-write leaves one that no entry names; a restarted writer numbers after it.)
   */
  const writeSidecar = (r: Recorder, payload: Uint8Array): Pick<CaptureSummary, 'payload_ref' | 'payload_sha256' | 'payload_bytes'> => {
    const name = sidecarName(r.nextSidecar)
    const sealed = (seal as (p: Uint8Array) => Buffer)(payload)
    const file = path.join(r.dir, name)
    const fd = openSync(file, 'wx', mode)
    try {
      let off = 0
      while (off < sealed.length) off += writeSync(fd, sealed, off)
    } catch (e) {
      rmSync(file, {force: true})
      throw e
    } finally {
      closeSync(fd)
    }
    r.nextSidecar++
    return {payload_ref: name, payload_sha256: `sha256:${sha256Hex(payload)}`, ...(payload.length > 0 ? {payload_bytes: payload.length} : {})}
  }

  const checkpoint = (r: Recorder): void => {
    if (r.sinceCheckpoint === 0) return
    const fd = rotateIfFull(r)
    writeChained(r, fd, () => r.chain.checkpoint(now(), r.checkpointFirst).line, false)
    r.sinceCheckpoint = 0
    r.checkpointFirst = r.chain.nextSeq
    flushRecorder(r)
    // Durability across a power loss, off the event loop (receipts/background-sync.ts).
    background.request(r.file)
  }

  const dropSentinel = (): void => {
    const r = recorderFor(CAPTURE_META_SESSION)
    writeEntry(r, 'capture_drop', 'capture_drop', '', 'capture queue overflow', `{"count":${dropped},"reason":"backpressure"}`, '')
  }

  /** `n` records lost: a sentinel at the first drop and whenever the count passes a hundred. */
  const dropMany = (n: number): void => {
    if (n === 0) return
    const before = dropped
    dropped += n
    if (before === 0 || Math.floor(before / 100) !== Math.floor(dropped / 100)) dropSentinel()
  }

  const drop = (): false => {
    dropMany(1)
    return false
  }

  return {
    append(record: CaptureRecordInput): boolean {
      if (closed) return drop()
      if (!isSafeSessionId(record.sessionId) || record.sessionId === CAPTURE_META_SESSION) return drop()
      try {
        background.check()
        const r = recorderFor(record.sessionId)
        let d = record.detail
        if (seal !== undefined && record.payload !== undefined) d = {...d, ...writeSidecar(r, record.payload)}
        const summary = record.summary ?? `${d.subsurface}:${d.effective_action === '' ? 'allow' : d.effective_action}`
        writeEntry(r, 'capture', d.surface, record.transport, summary, summaryJson(d), record.traceId ?? '')
        r.sinceCheckpoint++
        if (r.sinceCheckpoint >= checkpointEvery) checkpoint(r)
        return true
      } catch (e) {
        // A full disk or a vanished directory must not take the proxy down: the record is
        // counted as dropped (and the drop sentinel written when possible), the error kept.
        lastError = e as Error
        try {
          return drop()
        } catch {
          return false
        }
      }
    },
    flush(): void {
      try {
        for (const r of recorders.values()) flushRecorder(r)
      } catch (e) {
        lastError = e as Error
      }
    },
    noteDropped(): void {
      try {
        drop()
      } catch (e) {
        lastError = e as Error
      }
    },
    close(): void {
      if (closed) return
      // Every file is closed even when the disk refuses a checkpoint or a flush (the error is kept).
      const attempt = (f: () => void): void => {
        try {
          f()
        } catch (e) {
          lastError = e as Error
        }
      }
      for (const r of recorders.values()) if (r.sessionId !== CAPTURE_META_SESSION) attempt(() => checkpoint(r))
      if (dropped > 0 && dropped % 100 !== 0) attempt(dropSentinel)
      closed = true
      for (const r of recorders.values()) {
        attempt(() => flushRecorder(r))
        if (r.fd !== undefined) {
          const fd = r.fd
          r.fd = undefined
          attempt(() => fsyncSync(fd))
          closeSync(fd)
        }
      }
    },
    get dropped(): number {
      return dropped
    },
    get lastError(): Error | undefined {
      return lastError
    },
  }
}
