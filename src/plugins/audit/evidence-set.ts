import {stat} from 'node:fs/promises'
import {JsonNumber, toPlain, type JsonObject} from '../canonical/index.js'
import {
  actionReceiptHash,
  classifyRead,
  readLineBatchesSync,
  MAX_LINE_BYTES,
  EntryChainVerifier,
  EvidenceChainVerifier,
  EvidenceParseError,
  EVIDENCE_GENESIS,
  EVIDENCE_SIGNATURE_FAILED,
  notVerifiableText,
  recorderFileNumber,
  type LineError,
  parseEvidenceReceipt,
  recordString,
  recordUint,
  anchorSignedBytes,
  anchorTail,
  AnchorError,
  parseRetentionAnchor,
  RETENTION_ANCHOR,
  resumeAnchor,
  validateEvidence,
  verifyChainBatches,
  type ActionReceipt,
  type ChainItem,
  type ChainResult,
  type ClassifiedLine,
  type EvidenceKeyChoice,
  type ParsedEvidenceReceipt,
  type RecorderEntry,
  type RetentionAnchor,
  type RotationEndorsement,
  type SignatureChecks,
} from '../receipts/index.js'
import {verifyBytes} from '../signing/index.js'
import type {
  EndorsementUse,
  EvidenceComponent,
  EvidenceFailure,
  EvidenceSetReport,
  FileSummary,
  Finding,
  Position,
  ReceiptFact,
} from './evidence-types.js'
import type {KeyRing} from './key-ring.js'
import {EvidenceCounter} from './evidence-count.js'

// One pass over a set of evidence files (receipts.md §6–§9; docs/receipts.md): every line is
// classified once and fed to the checks that concern it —
//   the entry hash chain (§7.2) with seq continuity across rotated files and checkpoints (§7.3),
//   the v1 receipt chain (§6.4, Profile B: runs, restarts, rotation endorsements),
//   the v2 evidence chain (evidence/chain.ts) with a pinned key per signer and the authority matrix,
//   transcript roots against the v1 chain they seal.
// Memory stays flat: nothing per receipt is kept. Each v1 item carries its file and line as a
// `place` through the chain verifier and the signature pool, which hand back the failing item's
// (an index of every receipt's position grew by 6 bytes a receipt, bench: verify).

export interface EvidenceSetRequest {
  /** Files in chain order. */
  files: readonly string[]
  label: string
  /** How a file is named in findings. */
  display?: (file: string) => string
  keys: KeyRing
  /** Recorder session (endorsements; the session every entry must carry in directory mode). */
  session: string
  endorsements?: readonly RotationEndorsement[]
  /** Named endorsements' files, in the order of `endorsements` (for the report). */
  endorsementFiles?: readonly string[]
  /**
   * Endorsements found in the recorder directory (already verified and of this session): used
   * where a boundary needs them, reported (not fatal) where none does. `name` is how findings
   * call the file, `file` its path.
   */
  found?: readonly {file: string; name: string; endorsement: RotationEndorsement}[]
  /** Directory mode: file names carry the first entry seq (§7.4) and entries the session id. */
  directory?: boolean
  /** A file given with an explicit session: its entries must be that session's. */
  fileSession?: boolean
  /** Directory mode: names of the session's pattern that are not regular files (never read). */
  skipped?: readonly {name: string; what: string}[]
  onReceipt?: (fact: ReceiptFact) => void
  /** Called every few thousand lines with the bytes read so far and the input's total size. */
  onProgress?: (bytesRead: number, bytesTotal: number, receipts: number) => void
  /** Where the v1 Ed25519 checks run (default: inline, then a worker pool); tests and benchmarks choose. */
  signatures?: SignatureChecks
  /**
   * Entries no verified checkpoint signature covers (the tail after the last one, or every entry
   * when none verified) fail the input instead of being a warning: without a signature over
   * them, their metadata could have been rewritten (the entry chain has no key).
   */
  requireSignedCheckpoints?: boolean
}

class Stop extends Error {}

/** The entry chain's text for a first entry that links to an earlier one (receipts.md §7). */
const FIRST_NOT_GENESIS = 'first entry PrevHash should be "genesis"'
/** The v1 chain's text for a chain that does not start at chain_seq 0 (receipts.md §6.4). */
const V1_NOT_AT_ZERO = 'root receipt segment must start at chain_seq 0'

/** A line that cannot be read, as the failure states it: the file and line first (the reference's `line N: …`). */
function unreadableLine(at: Position, detail: string): string {
  return `${at.file}: line ${at.line}: ${detail}`
}

/** v1 receipts handed to the chain verifier at a time. */
const ITEM_BATCH = 32
/**
 * Bytes read at a time (~60 recorder lines). The decoded lines of a chunk live until the chunk
 * is walked; small chunks keep them inside the young generation, as one line at a time did.
 */
const READ_CHUNK = 64 * 1024

/** A line of the input as one number (a ChainItem's `place`): file index × 2^32 + line. */
const PLACE_FILE = 2 ** 32

export function placeOf(fileIndex: number, line: number): number {
  return fileIndex * PLACE_FILE + line
}

/** The file index and line a place names. */
export function placeParts(place: number): {fileIndex: number; line: number} {
  return {fileIndex: Math.floor(place / PLACE_FILE), line: place % PLACE_FILE}
}

export async function verifyEvidenceSet(req: EvidenceSetRequest): Promise<EvidenceSetReport> {
  const display = req.display ?? ((f: string) => f)
  const files: FileSummary[] = []
  const warnings: Finding[] = []
  const tally = new EvidenceCounter()
  let firstV1At: Position | undefined
  const entryChain = new EntryChainVerifier()
  const v2 = new EvidenceChainVerifier()
  const failures = new Map<EvidenceComponent, RankedFailure>()
  const fileOrder = new Map<string, number>()
  /** `entryGap`: entries are missing here (pickFailure puts it first at its line). */
  const fail = (component: EvidenceComponent, message: string, at?: Position, extra: Partial<EvidenceFailure> = {}, entryGap = false): void => {
    if (failures.has(component)) return
    // Input order of the failing line: file index, then line (Infinity when no line applies).
    const order = at === undefined ? Infinity : (fileOrder.get(at.file) ?? 0) * 2 ** 32 + at.line
    failures.set(component, {component, message, ...(at === undefined ? {} : {file: at.file, line: at.line}), ...extra, order, entryGap})
  }
  const warn = (message: string, at?: Position): void => {
    warnings.push(at === undefined ? {message} : {message, file: at.file, line: at.line})
  }

  // entry-chain state
  let entrySession: string | undefined
  // The entry the first seq gap called missing, while the rest of the input may still hold it.
  let awaitedEntry: {seq: bigint; failure: RankedFailure; reordered: (later: Position) => string} | undefined
  let lastEntry: {seq: bigint; file: string} | undefined
  // A retention cut (policy-extra.md §3.3): the first entry continues from the last entry of
  // expired files, as a retention anchor later in the input records; every chain resumes there.
  const cut = req.files.length > 0 ? resumeAnchor(req.files) : undefined
  const anchors: {signedBytes: Buffer | undefined; signature: string; seq: string; at: Position; key: string | undefined; resumedFrom: boolean}[] = []
  let v1Base = 0
  if (cut !== undefined) {
    const tail = anchorTail(cut)
    entryChain.resumeAfter(tail.hash)
    lastEntry = {seq: tail.seq, file: '(expired files)'}
    if (cut.evidenceChain !== undefined) v2.resumeAfter(cut.evidenceChain.lastSeq, cut.evidenceChain.lastReceiptHash)
    if (cut.receiptChain !== undefined) v1Base = Number(cut.receiptChain.lastSeq + 1n)
  }
  const checkpoints: {prevHash: string; signature: string; seq: string; at: Position; key: string | undefined; run: string | undefined; runSignedBefore: boolean; nextAt?: Position}[] = []
  // The checkpoint just read: the position of the entry after it is noted (where an unsigned tail starts).
  let checkpointBefore: (typeof checkpoints)[number] | undefined
  let firstEntry: {seq: string; at: Position} | undefined
  // The failure that says the input does not start at entry seq 0 (and nothing explains it).
  let missingStart: RankedFailure | undefined
  // The run (process) whose recorder wrote the entries being read: the last session_open seen.
  let recorderRun: string | undefined
  // Runs whose recorder signs checkpoints (sign_checkpoints is read once per process).
  const runsSigning = new Set<string>()
  // A session_close read from recorder entries: the recorder writes a checkpoint right after it
  // on close (signed or not, as the run signs), whatever checkpoints the run wrote before.
  let closeNeedsCheckpoint: {run: string; seq: string; at: Position} | undefined
  let tornTail = false
  // Where the walk stopped (a line it could not read, a mixed file): nothing after it was read,
  // so no finding may speak of the whole input (its end, its last run, its unsigned tail).
  let stopped: {at: Position; fileIndex: number; consumed: number; more: boolean} | undefined
  // the file being read, and bytesRead when it started (where a stop leaves the rest of it)
  let reading = {index: 0, start: 0}
  /** `more`: a line after `at` was already seen. */
  const stopAt = (at: Position, more = false): void => {
    stopped = {at, fileIndex: reading.index, consumed: bytesRead - reading.start, more}
  }
  let sealedAt: string | undefined
  let transcriptRoots = 0
  // line-shape state: a file is entries, or bare v1 receipts, or bare v2 receipts
  let shape: {kind: 'entries' | 'bare v1' | 'bare v2'; at: Position} | undefined
  // v1 state seen by the walker (the chain verifier itself runs in verifyChain)
  let v1Count = 0
  let lastV1: ActionReceipt | undefined
  let firstV1Signer: string | undefined
  let activeRun: {nonce: string; seq: string; at: Position} | undefined
  let runs = 0
  let unclosed = 0
  let control = 0
  let v2Stopped = false
  // The last chained v2 receipt, and each v2 chain a later genesis ended (a new emitter run): a
  // genesis names no earlier chain, so what covers each one's end is settled by the checkpoints.
  let v2LastChained: {seq: string; at: Position} | undefined
  const v2ChainEnds: {finalSeq: string; at: Position; genesisAt: Position; genesisEntrySeq: bigint | undefined}[] = []
  let v2Unchecked = false
  const notVerifiable: {count: number; extensions: string[]; first?: Finding} = {count: 0, extensions: []}

  const checkShape = (kind: 'entries' | 'bare v1' | 'bare v2', at: Position): void => {
    if (shape === undefined) {
      shape = {kind, at}
      return
    }
    if (shape.kind !== kind) {
      fail('lines', `mixed file: this line is ${describeShape(kind)} but ${shape.at.file}:${shape.at.line} is ${describeShape(shape.kind)}`, at)
      stopAt(at)
      throw new Stop()
    }
  }
  const onV1 = (receipt: ActionReceipt, at: Position): void => {
    const r = receipt.record
    firstV1At ??= at
    v1Count++
    firstV1Signer ??= receipt.signerKey
    const rosterError = req.keys.v1RosterError(receipt.signerKey, recordString(r, 'timestamp'))
    if (rosterError !== undefined) fail('keys', `chain_seq ${recordUint(r, 'chain_seq')}: ${rosterError}`, at)
    if (sealedAt !== undefined) fail('action_receipts', `receipt chain_seq ${recordUint(r, 'chain_seq')} after the transcript root at entry seq ${sealedAt} sealed the chain`, at)
    lastV1 = receipt
    const sc = r.get('session_control')
    const isControl = sc instanceof Map
    if (isControl) {
      control++
      const seq = recordUint(r, 'chain_seq').toString()
      if (sc.get('open') instanceof Map) {
        runs++
        if (activeRun !== undefined) {
          unclosed++
          warn(`run ${activeRun.nonce} (session_open at chain_seq ${activeRun.seq}, ${activeRun.at.file}:${activeRun.at.line}) has no session_close before the next run opens at chain_seq ${seq}: that process stopped without a clean shutdown`, at)
        }
        activeRun = {nonce: recordString(r, 'run_nonce'), seq, at}
        recorderRun = activeRun.nonce
      } else if (sc.get('close') instanceof Map) {
        activeRun = undefined
        if (shape?.kind === 'entries') {
          closeNeedsCheckpoint = {run: recordString(r, 'run_nonce'), seq: recordUint(r, 'chain_seq').toString(), at}
        }
      }
    }
    tally.add({version: 1, kind: '', control: isControl, transport: recordString(r, 'transport'), verdict: recordString(r, 'verdict')})
    if (req.onReceipt !== undefined) {
      req.onReceipt({
        version: 1,
        kind: recordString(r, 'action_type'),
        id: recordString(r, 'action_id'),
        timestamp: recordString(r, 'timestamp'),
        chainSeq: recordUint(r, 'chain_seq').toString(),
        control: isControl,
        verdict: recordString(r, 'verdict'),
        transport: recordString(r, 'transport'),
        target: recordString(r, 'target'),
        layer: recordString(r, 'layer'),
        pattern: recordString(r, 'pattern'),
        policyHash: recordString(r, 'policy_hash'),
        contractHash: recordString(r, 'contract_hash'),
        contractGeneration: r.has('contract_generation') ? recordUint(r, 'contract_generation').toString() : '',
        receiptHash: actionReceiptHash(receipt),
        position: at,
      })
    }
  }

  const onV2 = (r: ParsedEvidenceReceipt, at: Position, entrySeq?: bigint): void => {
    const p = r.payload instanceof Map ? r.payload : new Map()
    tally.add({version: 2, kind: r.payloadKind, control: false, transport: str(p, 'transport'), verdict: str(p, 'verdict')})
    if (req.onReceipt !== undefined) req.onReceipt(evidenceFact(r, at))
    if (v2Stopped) return
    let error: string | undefined
    if (r.unsupportedCritical.length > 0) {
      // A newer release's receipt with a critical extension this version does not implement:
      // not verifiable here (neither valid nor broken). Its link is still checked, so the
      // receipts after it verify as usual.
      notVerifiable.count++
      for (const x of r.unsupportedCritical) if (!notVerifiable.extensions.includes(x)) notVerifiable.extensions.push(x)
      notVerifiable.first ??= {message: `chain_seq ${r.chainSeq}: ${notVerifiableText(r.unsupportedCritical)}`, file: at.file, line: at.line}
      error = v2.pushUnsigned(r)
    } else {
      const key: EvidenceKeyChoice | undefined = req.keys.forEvidence(r)
      if (key === undefined) {
        // No key at all: structure, authority matrix and links only (the verdict says signatures were not checked).
        v2Unchecked = true
        const v = validateEvidence(r)
        error = v.ok ? v2.pushUnsigned(r) : `chain_seq ${r.chainSeq}: ${v.error}`
      } else {
        error = v2.push(r, key)
      }
    }
    if (error !== undefined) {
      v2Stopped = true
      fail('evidence_receipts', error, at, error.endsWith(EVIDENCE_SIGNATURE_FAILED) ? {signatureMismatch: {signerKeyId: r.signature.signerKeyId}} : {})
      return
    }
    if (r.chainPrevHash === '') return
    if (r.chainPrevHash === EVIDENCE_GENESIS && v2LastChained !== undefined) {
      v2ChainEnds.push({finalSeq: v2LastChained.seq, at: v2LastChained.at, genesisAt: at, genesisEntrySeq: entrySeq})
    }
    v2LastChained = {seq: r.chainSeq.toString(), at}
  }

  const onEntry = (e: RecorderEntry, at: Position, fileIndex: number, firstInFile: boolean, file: string): void => {
    const seq = BigInt(e.seq)
    const isFirstEntry = firstEntry === undefined
    firstEntry ??= {seq: e.seq, at}
    if (checkpointBefore !== undefined) {
      checkpointBefore.nextAt = at
      checkpointBefore = undefined
    }
    if (closeNeedsCheckpoint !== undefined) {
      if (e.type !== 'checkpoint') fail('entries', closeCheckpointMissing(closeNeedsCheckpoint, `entry seq ${e.seq} (${e.type})`), at)
      closeNeedsCheckpoint = undefined
    }
    const summary = files[fileIndex] as FileSummary
    summary.entries++
    summary.firstEntrySeq ??= e.seq
    summary.lastEntrySeq = e.seq
    if (entrySession === undefined) entrySession = e.sessionId
    const want = req.directory === true ? req.session : entrySession
    if (e.sessionId !== want) fail('entries', `entry seq ${e.seq}: session_id ${JSON.stringify(e.sessionId)}, expected ${JSON.stringify(want)}`, at)
    if (firstInFile && req.directory === true) {
      const named = recorderFileNumber(file)
      if (named !== undefined && named !== seq) {
        fail('files', `${at.file} is named for entry seq ${named} but its first entry has seq ${e.seq}`, at)
      }
    }
    if (awaitedEntry !== undefined && seq === awaitedEntry.seq) {
      // the entry the gap called missing is here, later: the entries were reordered
      awaitedEntry.failure.message = awaitedEntry.reordered(at)
      awaitedEntry = undefined
    }
    if (lastEntry !== undefined && seq !== lastEntry.seq + 1n) {
      const expected = lastEntry.seq + 1n
      // A seq already passed is an entry (or a file) that appears a second time, not a lost one.
      const missing = seq === expected + 1n ? ` (entry ${expected} is missing)` : seq > expected ? ` (entries ${expected}–${seq - 1n} are missing)` : ''
      const again = seq >= expected ? '' : firstInFile ? ` (${at.file} overlaps the previous file: entries from seq ${e.seq} appear twice, duplicated)` : ` (entry ${e.seq} appears again: duplicated)`
      const msg = firstInFile
        ? `gap between files: ${lastEntry.file} ends at entry seq ${lastEntry.seq}, ${at.file} starts at entry seq ${e.seq}${missing}${again}`
        : `entry seq gap: expected ${expected}, got ${e.seq}${missing}${again}`
      const first = !failures.has('entries')
      fail('entries', msg, at, {}, true)
      const failure = failures.get('entries')
      if (first && seq > expected && failure !== undefined) {
        // "missing" until the rest is read: an entry that comes later was moved, not removed
        const ends = lastEntry
        awaitedEntry = {
          seq: expected,
          failure,
          reordered: (later) =>
            firstInFile
              ? `entries out of order between files: ${ends.file} ends at entry seq ${ends.seq}, ${at.file} starts at entry seq ${e.seq}; entry seq ${expected} comes later, at ${later.file}:${later.line}`
              : `entries out of order: entry seq ${e.seq} where ${expected} was expected; entry seq ${expected} comes later, at ${later.file}:${later.line}`,
        }
      }
    }
    lastEntry = {seq, file: at.file}
    const chainError = entryChain.push(e)
    if (chainError !== undefined && isFirstEntry && cut === undefined && seq > 0n && chainError.includes(FIRST_NOT_GENESIS)) {
      // The start of the evidence is not here (a first file removed, or a rotated file given
      // alone): said first, at its line, with what to do; the entry chain's own text beside it.
      const range = seq === 1n ? 'entry 0 is' : `entries 0–${seq - 1n} are`
      const hint = req.directory === true ? 'its first files were removed, and no retention anchor records that they expired' : 'this file continues an earlier one: verify the whole recorder directory (--chain DIR)'
      fail('entries', `the evidence starts at entry seq ${e.seq} (${at.file}:${at.line}): ${range} missing; ${hint} (${chainError})`, at, {}, true)
      missingStart = failures.get('entries')
    } else if (chainError !== undefined) fail('entries', chainError, at)
    switch (e.type) {
      case 'checkpoint':
        checkCheckpoint(e, at)
        break
      case 'transcript_root':
        transcriptRoots++
        checkTranscriptRoot(e, at)
        break
      case RETENTION_ANCHOR: {
        const d = e.detail instanceof Map ? e.detail : new Map()
        const sig = d.get('signature')
        anchors.push({signedBytes: anchorSignedBytes(e.detailRaw), signature: typeof sig === 'string' ? sig : '', seq: e.seq, at, key: lastV1?.signerKey.toLowerCase(), resumedFrom: cut !== undefined && isCutAnchor(e.detailRaw, cut)})
        break
      }
      case 'evidence_receipt': {
        let r: ParsedEvidenceReceipt
        try {
          r = parseEvidenceReceipt(e.detailRaw)
        } catch (err) {
          if (!(err instanceof EvidenceParseError)) throw err
          fail('evidence_receipts', `entry seq ${e.seq}: ${err.message}`, at)
          v2Stopped = true
          break
        }
        onV2(r, at, seq)
        break
      }
      default:
    }
  }

  const checkCheckpoint = (e: RecorderEntry, at: Position): void => {
    const d = e.detail instanceof Map ? e.detail : new Map()
    const n = (k: string): bigint | undefined => {
      const v = d.get(k)
      return v instanceof JsonNumber ? BigInt(v.text) : undefined
    }
    const count = n('entry_count')
    const first = n('first_seq')
    const last = n('last_seq')
    const seq = BigInt(e.seq)
    if (count === undefined || first === undefined || last === undefined || last !== seq - 1n || first > last || count !== last - first + 1n) {
      fail('entries', `entry seq ${e.seq}: checkpoint covers [${first}-${last}] × ${count}, which is not the entries before it`, at)
    }
    const sig = d.get('signature')
    // The recorder key is the receipt key of the segment in force (after a rotation, the new one).
    const signature = typeof sig === 'string' ? sig : ''
    const runSignedBefore = recorderRun !== undefined && runsSigning.has(recorderRun)
    if (signature !== '' && recorderRun !== undefined) runsSigning.add(recorderRun)
    checkpointBefore = {prevHash: e.prevHash, signature, seq: e.seq, at, key: lastV1?.signerKey.toLowerCase(), run: recorderRun, runSignedBefore}
    checkpoints.push(checkpointBefore)
  }

  const checkTranscriptRoot = (e: RecorderEntry, at: Position): void => {
    const d = e.detail instanceof Map ? e.detail : new Map()
    const rootHash = str(d, 'root_hash')
    const count = d.get('receipt_count')
    const want = lastV1 === undefined ? undefined : actionReceiptHash(lastV1)
    const total = v1Base + v1Count
    if (want === undefined || rootHash !== want || !(count instanceof JsonNumber) || count.text !== String(total)) {
      fail('action_receipts', `entry seq ${e.seq}: transcript root (root ${rootHash}, ${count instanceof JsonNumber ? count.text : '?'} receipts) does not match the receipt chain before it (root ${want ?? 'none'}, ${total} receipts)`, at)
    }
    sealedAt = e.seq
  }

  // The session a file was asked to be (its entries are checked against its first entry's): no
  // position, so a rotation endorsement's own session error, which says more, is the one shown.
  const checkFileSession = (): void => {
    if (entrySession !== undefined) {
      if (entrySession !== req.session) fail('files', `${req.label} holds the entries of recorder session ${JSON.stringify(entrySession)}, not of --session ${JSON.stringify(req.session)}`)
    } else if (shape !== undefined && (req.endorsements ?? []).length === 0) {
      fail('files', `${req.label} holds ${shape.kind} receipts, not recorder entries: nothing in it names a recorder session to check --session ${JSON.stringify(req.session)} against`)
    }
  }

  const placePosition = (place: number): Position | undefined => {
    const {fileIndex, line} = placeParts(place)
    const summary = files[fileIndex]
    return summary === undefined ? undefined : {file: summary.path, line}
  }

  let bytesTotal = 0
  if (req.onProgress !== undefined) for (const f of req.files) bytesTotal += (await stat(f)).size
  let bytesRead = 0
  let sinceProgress = 0
  // The lines of a file are read one chunk at a time and classified one by one as they are
  // walked; the v1 items go to the chain verifier in batches of at most ITEM_BATCH (a few
  // asynchronous steps per chunk instead of four per line, and few parsed receipts alive at once).
  async function* walk(): AsyncGenerator<ChainItem[]> {
    for (let fi = 0; fi < req.files.length; fi++) {
      const file = req.files[fi] as string
      const shown = display(file)
      fileOrder.set(shown, fi)
      const summary: FileSummary = {path: shown, lines: 0, entries: 0}
      files.push(summary)
      const isLastFile = fi === req.files.length - 1
      reading = {index: fi, start: bytesRead}
      let firstInFile = true
      let pending: {text: string; at: Position; error: LineError} | undefined
      for (const raw of readLineBatchesSync(file, MAX_LINE_BYTES, READ_CHUNK)) {
        let out: ChainItem[] = []
        try {
          for (const rawLine of raw) {
            if (out.length >= ITEM_BATCH) {
              yield out
              out = []
            }
            // blank lines count too: where the walk stops, the bytes before it are all read
            bytesRead += rawLine.bytes + 1
            const line = classifyRead(rawLine)
            if (line === undefined) continue
            summary.lines = line.number
            if (req.onProgress !== undefined && ++sinceProgress === 4096) {
              sinceProgress = 0
              req.onProgress(bytesRead, bytesTotal, v1Count + tally.v2Count)
            }
            const at = {file: shown, line: line.number}
            if (pending !== undefined) {
              // A bad line followed by more lines: not a torn tail.
              fail('lines', unreadableLine(pending.at, pending.error.message), pending.at, {extraction: pending.error.kind})
              stopAt(pending.at, true)
              throw new Stop()
            }
            if (line.error !== undefined) {
              if (!line.terminated && line.text !== undefined) {
                pending = {text: line.text, at, error: line.error}
                continue
              }
              fail('lines', unreadableLine(at, line.error.message), at, {extraction: line.error.kind})
              stopAt(at)
              throw new Stop()
            }
            const c = line.classified as ClassifiedLine
            if (c.kind === 'bare') {
              if (c.item.kind === 'receipt') {
                checkShape('bare v1', at)
                onV1(c.item.receipt, at)
                c.item.place = placeOf(fi, line.number)
                out.push(c.item)
              } else {
                checkShape('bare v2', at)
                let r: ParsedEvidenceReceipt
                try {
                  r = parseEvidenceReceipt(c.text)
                } catch (err) {
                  if (!(err instanceof EvidenceParseError)) throw err
                  fail('evidence_receipts', err.message, at)
                  stopAt(at)
                  throw new Stop()
                }
                onV2(r, at)
              }
              continue
            }
            checkShape('entries', at)
            onEntry(c.entry, at, fi, firstInFile, file)
            firstInFile = false
            if (c.item !== undefined) {
              if (c.item.kind === 'evidence_v2') {
                fail('action_receipts', `entry seq ${c.entry.seq}: an action_receipt entry holds an EvidenceReceipt v2 (v2 receipts belong in evidence_receipt entries)`, at)
                stopAt(at)
                throw new Stop()
              }
              onV1(c.item.receipt, at)
              c.item.place = placeOf(fi, line.number)
              out.push(c.item)
            }
          }
        } catch (e) {
          // the items before the stopping line still reach the chain verifier, in order
          if (e instanceof Stop && out.length > 0) yield out
          throw e
        }
        if (out.length > 0) yield out
      }
      if (pending !== undefined) {
        if (isLastFile) {
          tornTail = true
          const torn = `${Buffer.byteLength(pending.text)} bytes, no newline, does not parse`
          // After a session_close the recorder writes its checkpoint at once: a cut-off line in
          // its place is no crash that leaves the evidence whole, and cannot excuse its absence.
          if (closeNeedsCheckpoint !== undefined) fail('entries', closeCheckpointMissing(closeNeedsCheckpoint, `a truncated last line (${torn})`, 'it was cut short or removed'), pending.at)
          else warn(`truncated last line (${torn}): an interrupted write, not evidence; ignored`, pending.at)
        } else {
          fail('lines', unreadableLine(pending.at, `${pending.error.message} (a cut-off line at the end of a file that later files continue)`), pending.at, {extraction: pending.error.kind})
          stopAt(pending.at)
          throw new Stop()
        }
      }
    }
  }

  // The v1 pin may come from a roster or a named key, found by the first v1 signer: pull
  // batches until the first receipt appears, then start the chain verifier with that pin.
  const source = walk()
  const pull = async (): Promise<IteratorResult<ChainItem[]> | undefined> => {
    try {
      return await source.next()
    } catch (e) {
      if (e instanceof Stop) return undefined
      throw e
    }
  }
  const head = await pull()
  const pin = req.keys.v1Pin(firstV1Signer)
  if (pin.error !== undefined) fail('keys', pin.error, firstV1At)
  // A key read from a file is named by its fingerprint in errors, never by the file's contents.
  const pinName = pin.key === undefined ? undefined : req.keys.nameOf(pin.key)
  async function* items(): AsyncGenerator<ChainItem[]> {
    if (head === undefined || head.done === true) return
    yield head.value
    for (;;) {
      const next = await pull()
      if (next === undefined || next.done === true) return
      yield next.value
    }
  }
  const v1: ChainResult = await verifyChainBatches(items(), {
    ...(pin.key === undefined ? {} : {pinnedKey: pin.key}),
    ...(pinName === undefined ? {} : {pinnedKeyName: pinName}),
    sessionId: req.session,
    endorsements: req.endorsements ?? [],
    found: (req.found ?? []).map((f) => f.endorsement),
    ...(cut?.receiptChain === undefined
      ? {}
      : {resume: {seq: cut.receiptChain.lastSeq, prevHash: cut.receiptChain.lastReceiptHash, ...(cut.receiptChain.run === undefined ? {} : {run: cut.receiptChain.run})}}),
  }, req.signatures)

  // What follows speaks of the whole input (its end, its last run, what no signature covers, how
  // many of a kind it holds): when the walk stopped early, only that the rest was not read is said.
  const complete = stopped === undefined
  if (stopped !== undefined) {
    const after = req.files.length - 1 - stopped.fileIndex
    const restOfFile = stopped.more || stopped.consumed < (await stat(req.files[stopped.fileIndex] as string)).size
    if (restOfFile || after > 0) {
      const where = restOfFile ? `the rest of ${stopped.at.file}${after > 0 ? ` and the ${after} file${after === 1 ? '' : 's'} after it` : ''}` : `the ${after} file${after === 1 ? '' : 's'} after ${stopped.at.file}`
      const plural = restOfFile ? after > 0 : after > 1
      warn(`verification stopped at this line: ${where} ${plural ? 'were' : 'was'} not checked, so nothing is said here of what ${plural ? 'they hold' : 'it holds'} (receipts, checkpoints, a session_close)`, stopped.at)
    }
  }
  // The input ends at the close: its checkpoint is gone (a torn line in its place failed above).
  if (complete && closeNeedsCheckpoint !== undefined && !tornTail) fail('entries', closeCheckpointMissing(closeNeedsCheckpoint, 'the end of the input'), closeNeedsCheckpoint.at)
  if (req.fileSession === true) checkFileSession()
  if (complete && activeRun !== undefined) {
    unclosed++
    warn(`the last run ${activeRun.nonce} (session_open at chain_seq ${activeRun.seq}) has no session_close: the recorder was not closed cleanly (crash or kill) or is still running`, activeRun.at)
  }
  if (!v1.valid && v1.error !== undefined) {
    const at = v1.brokenAtPlace === undefined ? undefined : placePosition(v1.brokenAtPlace)
    // the receipts' own text for the same missing start (receipts.md §6.4), kept beside the clearer line
    if (missingStart !== undefined && v1.error.endsWith(V1_NOT_AT_ZERO)) missingStart.message += `; the receipt chain: ${v1.error}`
    fail('action_receipts', v1.error, at, {...(v1.brokenAtSeq === undefined ? {} : {brokenAtSeq: v1.brokenAtSeq}), ...(v1.unendorsedBoundary === true ? {unendorsedRotation: true as const} : {})})
  }
  const endorsementUses = endorsementReport(req, v1, pin.key !== undefined)
  if (complete) for (const u of endorsementUses.warnings) warn(u)

  // Checkpoint signatures: by the recorder key, which is the v1 signer (receipts.md §7.3).
  // The v1 chain verifier has checked each receipt's signer against the pinned key and the
  // endorsed rotations, so the signer in force at a checkpoint is trusted when the chain is.
  const fallbackKey = pin.key ?? req.keys.plain
  let signedCheckpoints = 0
  // The last checkpoint whose signature verified: it signs the hash of the entry before it, so
  // the entry chain up to there; nothing signs the entries after it.
  let lastCovering: (typeof checkpoints)[number] | undefined
  let unsigned = 0
  let unchecked = 0
  // sign_checkpoints is read once per process: one run's checkpoints are all signed or all
  // unsigned. An unsigned one after a signed one of the same run had its signature removed, the
  // way to edit the entries it covered (the entry chain itself has no key).
  for (const c of checkpoints) {
    if (c.signature === '') {
      if (c.runSignedBefore) {
        fail('entries', `entry seq ${c.seq}: checkpoint is unsigned, but an earlier checkpoint of the same run (${c.run}) is signed: its signature was removed`, c.at)
        // a failure, not a configuration: the warning below blames sign_checkpoints
        continue
      }
      unsigned++
      continue
    }
    signedCheckpoints++
    const checkpointKey = c.key ?? fallbackKey
    if (checkpointKey === undefined) {
      unchecked++
      continue
    }
    const ok = /^[0-9a-f]{128}$/.test(c.signature) && verifyBytes(Buffer.from(checkpointKey, 'hex'), Buffer.from(c.prevHash, 'ascii'), Buffer.from(c.signature, 'hex'))
    if (!ok) fail('entries', `entry seq ${c.seq}: checkpoint signature verification failed`, c.at)
    else lastCovering = c
  }
  const unsignedTail = complete ? uncoveredTail(firstEntry, lastEntry, lastCovering) : undefined
  // Said on stderr when the writer is one that writes checkpoints (a checkpoint or a run's
  // session_open is in the input; a closed run ends with one). Inputs with neither — the
  // reference's conformance files, \`learn shadow\` directories — carry the count in --json only.
  if (unsignedTail !== undefined && req.requireSignedCheckpoints === true) fail('entries', `${unsignedTailText(unsignedTail, lastCovering?.seq)} (--require-signed-checkpoints)`, unsignedTail.at)
  else if (unsignedTail !== undefined && (checkpoints.length > 0 || runs > 0)) warn(unsignedTailText(unsignedTail, lastCovering?.seq), unsignedTail.at)
  // An earlier v2 chain's end is proven only when a verified checkpoint signature covers the entry
  // of the genesis after it: then no entry before that genesis, so no receipt of the earlier
  // chain, can have been removed without breaking the signature.
  let unprovenChainEnds = 0
  for (const c of complete ? v2ChainEnds : []) {
    if (c.genesisEntrySeq !== undefined && lastCovering !== undefined && c.genesisEntrySeq < BigInt(lastCovering.seq)) continue
    unprovenChainEnds++
    warn(
      `a new v2 chain starts at genesis here; the chain before it ends at chain_seq ${c.finalSeq} (${c.at.file}:${c.at.line}), and no verified checkpoint signature covers this point: a genesis names no earlier chain, so nothing proves no receipt after chain_seq ${c.finalSeq} was removed`,
      c.genesisAt,
    )
  }
  // Retention anchors carry their own signature by the recorder key (over the detail without it).
  // The anchor the chains resume from must carry one whenever there are receipts: the recorder
  // that signs receipts signs its anchors, and an unsigned anchor is what anyone who deletes the
  // oldest files and appends one line would write (the entry chain has no key).
  let unsignedAnchors = 0
  for (const a of anchors) {
    if (a.signature === '') {
      if (a.resumedFrom && v1Count + tally.v2Count > 0) {
        fail('entries', `entry seq ${a.seq}: the retention anchor the chains resume from is unsigned, but the recorder signs receipts: nothing proves the missing files expired rather than were deleted`, a.at)
        // a failure, not a recorder without a key: the warning below would say so
        continue
      }
      unsignedAnchors++
      continue
    }
    const anchorKey = a.key ?? fallbackKey ?? firstV1Signer?.toLowerCase()
    if (anchorKey === undefined) continue
    const ok = a.signedBytes !== undefined && /^[0-9a-f]{128}$/.test(a.signature) && verifyBytes(Buffer.from(anchorKey, 'hex'), a.signedBytes, Buffer.from(a.signature, 'hex'))
    if (!ok) fail('entries', `entry seq ${a.seq}: retention anchor signature verification failed`, a.at)
  }
  if (complete && unsignedAnchors > 0) warn(`${unsignedAnchors} retention anchors are unsigned (no recorder signing key): only the entry chain covers them`)
  if (cut !== undefined) {
    const first = cut.removed.reduce((m, r) => (r.firstSeq < m ? r.firstSeq : m), anchorTail(cut).seq)
    warn(`the chains resume after a retention cut: ${cut.removed.length} expired files (entry seq ${first}-${anchorTail(cut).seq}, cutoff ${cut.cutoff}) were removed as a retention anchor records`)
  }
  if (complete && unsigned > 0) warn(`${unsigned} of ${checkpoints.length} checkpoints are unsigned (flight_recorder.sign_checkpoints off): they add no signature over the entry chain`)
  if (complete && unchecked > 0) warn(`${unchecked} signed checkpoints not checked: no v1 signer key to check them with`)

  const v2State = v2.result()
  if (complete && v2State.unchainedCount > 0) {
    warn(`${v2State.unchainedCount} v2 receipts are unchained (chain_seq 0, empty chain_prev_hash; the lifecycle commands write these): each verifies on its own, but nothing proves none was removed or reordered`)
  }
  if (complete && v2State.chains > 1) warn(`${v2State.chains} v2 chains start at genesis in this input (one per emitter run)`)

  // A file of the session that was not read (a symlink is never followed) may hold receipts
  // nobody checked: whatever the files read say, the set is not verified.
  for (const sk of req.skipped ?? []) {
    fail('files', `${sk.name} is ${sk.what}, not a regular file: it was not read, so the session's files cannot all be verified (put the real file in its place)`)
  }

  const failure = pickFailure(failures)
  const totalReceipts = v1Count + tally.v2Count
  const pinned = req.keys.pinned
  // Unchecked v2 signatures are not a pass: anyone can write a v2 receipt whose structure and
  // links are sound (docs/receipts.md: `valid: false` for one v2 receipt without a key, and the
  // same receipt in a .jsonl file or a directory must not read otherwise).
  const valid = failure === undefined && totalReceipts > 0 && notVerifiable.count === 0 && !v2Unchecked
  const report: EvidenceSetReport = {
    kind: 'evidence_set',
    label: req.label,
    valid,
    verdict:
      failure !== undefined ? 'invalid' : totalReceipts === 0 ? 'empty' : notVerifiable.count > 0 ? 'not_verifiable' : pinned && !v2Unchecked ? 'valid' : 'self_consistent_only',
    signerPinned: pinned,
    receiptCount: totalReceipts,
    files,
    entries: {
      count: entryChain.count,
      valid: complete && !failures.has('entries') && !failures.has('files'),
      ...(entrySession === undefined ? {} : {sessionId: entrySession}),
      checkpoints: checkpoints.length,
      signedCheckpoints,
      ...(unsignedTail === undefined ? {} : {unsignedTail: {entries: Number(unsignedTail.entries), firstSeq: unsignedTail.firstSeq, lastSeq: unsignedTail.lastSeq}}),
      transcriptRoots,
      ...(anchors.length === 0 ? {} : {retentionAnchors: anchors.length}),
      ...(cut === undefined
        ? {}
        : {
            retentionCut: {
              removedFiles: cut.removed.length,
              firstSeq: cut.removed.reduce((m, r) => (r.firstSeq < m ? r.firstSeq : m), anchorTail(cut).seq).toString(),
              lastSeq: anchorTail(cut).seq.toString(),
              cutoff: cut.cutoff,
              retentionDays: cut.retentionDays,
            },
          }),
    },
    actionReceipts: {
      count: v1Count,
      valid: complete && !failures.has('action_receipts') && !failures.has('keys'),
      controlReceipts: control,
      runs,
      unclosedRuns: unclosed,
      // A key read from a file that the chain did not verify under is not echoed (it may be a
      // private key given by mistake): the first receipt's own signer is reported instead.
      ...(firstV1Signer === undefined ? {} : {signerKey: pinName !== undefined && !v1.valid ? firstV1Signer : (pin.key ?? firstV1Signer)}),
      ...(v1.valid && v1.receiptCount > 0
        ? {finalSeq: v1.finalSeq, rootHash: v1.rootHash, startTime: v1.startTime, endTime: v1.endTime}
        : {}),
    },
    evidenceReceipts: {
      count: tally.v2Count,
      valid: complete && !failures.has('evidence_receipts'),
      chains: v2State.chains,
      chained: v2State.chainedCount,
      unchained: v2State.unchainedCount,
      signaturesChecked: !v2Unchecked,
      ...(unprovenChainEnds === 0 ? {} : {unprovenChainEnds}),
      ...(v2State.finalSeq === undefined ? {} : {finalSeq: v2State.finalSeq, rootHash: v2State.rootHash}),
      ...(v2State.startTime === undefined ? {} : {startTime: v2State.startTime, endTime: v2State.endTime}),
    },
    counts: tally.counts(),
    notVerifiable,
    ...(endorsementUses.uses.length === 0 ? {} : {endorsements: endorsementUses.uses}),
    warnings,
  }
  if (failure !== undefined) report.failure = failure
  const unused = req.keys.unusedNamed()
  if (failure === undefined && totalReceipts > 0 && unused.length > 0) report.unusedKeys = unused
  return report
}

const shortKey = (hex: string): string => `${hex.slice(0, 16)}…`

/**
 * Which endorsements the v1 chain rested on, and what to say about the others. A found one no
 * boundary used is a warning, not a failure (receipts.md §6.6 makes that fatal only for the ones
 * a verifier is handed): a recorder directory keeps `rotation-<n>.json` for a rotation endorsed
 * but not yet in force, and after retention has expired a whole old segment, boundary included.
 */
function endorsementReport(req: EvidenceSetRequest, v1: ChainResult, pinned: boolean): {uses: EndorsementUse[]; warnings: string[]} {
  const named = req.endorsementFiles ?? []
  const found = req.found ?? []
  const unused = new Set(v1.unusedFound ?? [])
  const uses: EndorsementUse[] = [
    ...named.map((file) => ({file, source: 'named' as const, used: v1.valid})),
    ...found.map((f, i) => ({file: f.file, source: 'found' as const, used: !unused.has(i) && v1.valid})),
  ]
  const warnings: string[] = []
  if (v1.resumedUnder !== undefined) {
    const names = v1.resumedUnder.via.map((i) => (i < named.length ? named[i] : found[i - named.length]?.name) ?? '?')
    warnings.push(`the chains resume after a retention cut under key ${shortKey(v1.resumedUnder.key)}, which the pinned key handed over to (${names.join(', ')})`)
  }
  if (v1.valid || v1.unusedFound !== undefined) {
    for (const i of v1.unusedFound ?? []) {
      const f = found[i]
      if (f === undefined) continue
      const e = f.endorsement
      const what = `rotation endorsement (key ${shortKey(e.priorSignerKey)} to ${shortKey(e.newSignerKey)} after chain_seq ${e.priorFinalSeq})`
      warnings.push(pinned ? `${f.name}: ${what} matches no key change in this evidence; not used` : `${f.name}: ${what} not used: an endorsement is trusted only from a pinned key (--key or --roster)`)
    }
  }
  return {uses, warnings}
}

/** Whether an anchor entry's detail is the anchor `cut` the chains resume from (same removed tail). */
function isCutAnchor(detailRaw: string, cut: RetentionAnchor): boolean {
  try {
    const a = anchorTail(parseRetentionAnchor(detailRaw))
    const c = anchorTail(cut)
    return a.seq === c.seq && a.hash === c.hash
  } catch (e) {
    if (e instanceof AnchorError) return false
    throw e
  }
}

function closeCheckpointMissing(close: {run: string; seq: string; at: Position}, next: string, what = 'it was removed'): string {
  return `the session_close of run ${close.run} (chain_seq ${close.seq}, ${close.at.file}:${close.at.line}) is followed by ${next}, not the checkpoint the recorder writes on close: ${what}`
}

/**
 * The entries at the end of the input that no verified checkpoint signature covers: all of them
 * when none verified, else those after the last one that did. Undefined when there are none.
 */
function uncoveredTail(
  first: {seq: string; at: Position} | undefined,
  last: {seq: bigint} | undefined,
  covering: {seq: string; nextAt?: Position} | undefined,
): {entries: bigint; firstSeq: string; lastSeq: string; at: Position} | undefined {
  if (first === undefined || last === undefined) return undefined
  if (covering === undefined) return {entries: last.seq - BigInt(first.seq) + 1n, firstSeq: first.seq, lastSeq: last.seq.toString(), at: first.at}
  if (covering.nextAt === undefined) return undefined
  const from = BigInt(covering.seq) + 1n
  return {entries: last.seq - from + 1n, firstSeq: from.toString(), lastSeq: last.seq.toString(), at: covering.nextAt}
}

/** The warning about entries no checkpoint signature covers (exported for its wording test). */
export function unsignedTailText(t: {entries: bigint; firstSeq: string; lastSeq: string}, after: string | undefined): string {
  const n = t.entries === 1n ? '1 entry' : `${t.entries} entries`
  const range = t.entries === 1n ? `entry seq ${t.firstSeq}` : `entry seq ${t.firstSeq}-${t.lastSeq}`
  const one = t.entries === 1n
  return after === undefined
    ? `no verified checkpoint signature covers ${one ? 'the 1 entry' : `any of the ${n}`} (${range}): nothing but the entry chain, which has no key, shows ${one ? 'it was' : 'they were'} not rewritten`
    : `the last ${n} (${range}) ${one ? 'comes' : 'come'} after the last signed checkpoint (entry seq ${after}): no signature covers ${one ? 'it' : 'them'}, so nothing shows ${one ? 'it was' : 'they were'} not rewritten (a run that crashed or is still running leaves such a tail; a closed run ends with its checkpoint)`
}

function describeShape(kind: 'entries' | 'bare v1' | 'bare v2'): string {
  return kind === 'entries' ? 'a flight-recorder entry' : kind === 'bare v1' ? 'a bare ActionReceipt v1' : 'a bare EvidenceReceipt v2'
}

/**
 * A line that cannot be read wins wherever it is (the reference extracts the whole input before
 * verifying); otherwise the first failure in input order, and at the same line the receipt's
 * own failure, which explains more than the entry hash it also breaks.
 */
function pickFailure(failures: Map<EvidenceComponent, RankedFailure>): EvidenceFailure | undefined {
  const unreadable = failures.get('lines')
  if (unreadable !== undefined) {
    const {order: _o, entryGap: _g, ...rest} = unreadable
    return rest
  }
  const rank: EvidenceComponent[] = ['lines', 'keys', 'action_receipts', 'evidence_receipts', 'files', 'entries']
  // Entries missing from the chain explain the receipt gap they leave (`seq gap: expected 4, got
  // 7`) better than it explains itself: at the same line, the entry gap names what is gone.
  const before = (f: RankedFailure, b: RankedFailure): boolean =>
    f.order < b.order || (f.order === b.order && (f.entryGap !== b.entryGap ? f.entryGap : rank.indexOf(f.component) < rank.indexOf(b.component)))
  let best: RankedFailure | undefined
  for (const f of failures.values()) {
    if (best === undefined || before(f, best)) best = f
  }
  if (best === undefined) return undefined
  const {order: _order, entryGap: _gap, ...rest} = best
  return rest
}

/** A failure as first found: its input order, and whether it is an entry gap (which leads at its line). */
type RankedFailure = EvidenceFailure & {order: number; entryGap: boolean}

function str(o: JsonObject, k: string): string {
  const v = o.get(k)
  return typeof v === 'string' ? v : ''
}


function evidenceFact(r: ParsedEvidenceReceipt, at: Position): ReceiptFact {
  const p = r.payload instanceof Map ? r.payload : new Map()
  const plain = toPlain(p) as Record<string, unknown>
  return {
    version: 2,
    kind: r.payloadKind,
    id: r.eventId,
    timestamp: r.timestamp,
    chainSeq: r.chainSeq.toString(),
    control: false,
    ...(r.payloadKind === 'proxy_decision' ? {verdict: str(p, 'verdict'), transport: str(p, 'transport'), target: str(p, 'target')} : {}),
    actor: r.actor,
    contractHash: r.contractHash,
    contractGeneration: r.contractGeneration === 0n ? '' : r.contractGeneration.toString(),
    // a newer release's envelope member (docs/receipts.md): it feeds the packet's policy_hashes
    ...(r.policyHash === '' ? {} : {policyHash: r.policyHash}),
    payload: plain,
    position: at,
  }
}
