import {lstat, readdir} from 'node:fs/promises'
import path from 'node:path'
import {JsonNumber, JsonSyntaxError, parseStrictJson, type JsonObject} from '../canonical/index.js'
import {parseActionReceiptText, parseActionReceiptTree, ReceiptParseError} from './action-receipt.js'
import type {ChainItem} from './chain.js'
import {readCanonicalReceiptEntry} from './canonical-line.js'
import {readLineBatches, MAX_LINE_BYTES, type Line} from './line-reader.js'
import {EntryError, entryFromObject, type RecorderEntry} from './recorder-entry.js'

// Receipt extraction from flight-recorder JSONL (receipts.md §6.1): `action_receipt` entries in
// file order; other entry types skipped. Bare receipt lines are accepted too (pyverify does).

/**
 * A line that cannot be read as an entry (`kind: 'entry'`), or an action_receipt entry whose
 * receipt does not parse (`kind: 'receipt'`). Either aborts extraction, as in the reference.
 */
export class ExtractionError extends Error {
  constructor(
    readonly kind: 'entry' | 'receipt',
    readonly detail: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(
      kind === 'entry'
        ? `extracting receipts: reading entries: ${file}: line ${line}: ${detail}`
        : `extracting receipts: ${file}: line ${line}: ${detail}`,
    )
    this.name = 'ExtractionError'
  }
}

/** The recorder files of a session in a directory, ordered by the number after the last `-`. */
export async function chainFilesInDir(dir: string, sessionId: string): Promise<string[]> {
  return (await scanChainDir(dir, sessionId)).files
}

/**
 * The same, and the names that match the pattern but are not regular files (a symlink is not
 * followed, a directory is not read): a verifier must say that it skipped them.
 */
export async function scanChainDir(dir: string, sessionId: string): Promise<{files: string[]; skipped: {name: string; what: string}[]}> {
  // Exactly `evidence-<session>-<first seq>.jsonl`: a prefix match also took another session's
  // files (`evidence-proxy-2-0.jsonl` for session `proxy`), which the writer would resume from,
  // retention would expire, and the verifier read as a fork of this chain.
  const prefix = `evidence-${sessionId}-`
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl') && /^\d+$/.test(n.slice(prefix.length, -'.jsonl'.length)))
  const files: {name: string; n: bigint}[] = []
  const skipped: {name: string; what: string}[] = []
  for (const name of names.sort()) {
    const st = await lstat(path.join(dir, name))
    if (!st.isFile()) {
      skipped.push({name, what: st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file'})
      continue
    }
    files.push({name, n: recorderFileNumber(name) ?? 0n})
  }
  files.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : a.name < b.name ? -1 : 1))
  return {files: files.map((f) => path.join(dir, f.name)), skipped}
}

/** One non-empty JSONL line, classified. */
export type ClassifiedLine =
  /** A recorder entry; `item` is set for `action_receipt` entries (the v1 receipt in it). */
  | {kind: 'entry'; entry: RecorderEntry; item?: ChainItem}
  /** A bare receipt line (pyverify accepts these): a v1 receipt, or a v2 envelope (`text`). */
  | {kind: 'bare'; item: ChainItem; text: string}

/** A line that is neither an entry nor a receipt (`entry`), or whose receipt does not parse (`receipt`). */
export class LineError extends Error {
  constructor(
    readonly kind: 'entry' | 'receipt',
    message: string,
  ) {
    super(message)
    this.name = 'LineError'
  }
}

/** Classifies one trimmed, non-empty line. Throws LineError. */
export function classifyLine(text: string): ClassifiedLine {
  // Most lines of a recorder file are receipts in canonical form: read in one pass (bench: verify).
  const canonical = readCanonicalReceiptEntry(text)
  if (canonical !== undefined) {
    const {entry, receipt} = canonical
    return {kind: 'entry', entry, item: {kind: 'receipt', receipt, hasRecordObject: true, receiptJson: entry.detailRaw}}
  }
  return classifyLineInFull(text)
}

/** classifyLine without the canonical fast path: the full strict reading (and the tests' oracle). */
export function classifyLineInFull(text: string): ClassifiedLine {
  let parsed
  try {
    parsed = parseStrictJson(text, {topLevelSpans: true})
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new LineError('entry', `parsing entry: ${lineSyntaxError(e)}`)
    throw e
  }
  const obj = parsed.value
  if (!(obj instanceof Map)) throw new LineError('entry', `parsing entry: not a JSON object`)
  const spans = parsed.spans as Map<string, [number, number]>
  const o = obj as JsonObject
  if (!o.has('v')) {
    // Not an entry: a bare receipt line (v1, or a v2 envelope).
    const item = bareItem(o, text, spans)
    if (typeof item === 'string') throw new LineError('entry', item)
    return {kind: 'bare', item, text}
  }
  let entry
  try {
    entry = entryFromObject(o, spans, text)
  } catch (e) {
    if (e instanceof EntryError) throw new LineError('entry', e.message)
    throw e
  }
  if (entry.type !== 'action_receipt') return {kind: 'entry', entry}
  let detailText = entry.detailRaw
  if (typeof entry.detail === 'string') detailText = entry.detail // a JSON-string detail (pyverify form)
  try {
    const detailObj = typeof entry.detail === 'string' ? parseStrictJson(detailText).value : entry.detail
    if (detailObj instanceof Map && detailObj.get('record_type') === 'evidence_receipt_v2') {
      return {kind: 'entry', entry, item: {kind: 'evidence_v2', chainSeq: seqText(detailObj)}}
    }
    // The detail is already parsed; only an `ext` member needs its source text (its bytes,
    // not its value, enter the receipt hash), so the text is re-read only in that case.
    const receipt =
      detailObj instanceof Map && detailObj.has('ext') ? parseActionReceiptText(detailText) : parseActionReceiptTree(detailObj)
    return {kind: 'entry', entry, item: {kind: 'receipt', receipt, hasRecordObject: detailObj instanceof Map && detailObj.get('action_record') instanceof Map}}
  } catch (e) {
    if (e instanceof ReceiptParseError || e instanceof JsonSyntaxError) {
      const msg = e instanceof JsonSyntaxError ? `unmarshal receipt: ${e.message}` : e.message
      throw new LineError('receipt', `unmarshal existing receipt at seq ${entry.seq}: ${msg}`)
    }
    throw e
  }
}

/**
 * A JSON syntax error in one JSONL line: the parser's "line 1" is the line's own first (and
 * only) line, which read beside the file's line number looks like another place: the column alone.
 */
function lineSyntaxError(e: JsonSyntaxError): string {
  return e.line === 1 ? `${e.reason} at column ${e.column}` : e.message
}

/** One line of a JSONL file as read and classified; blank lines are skipped. */
export interface ReadLine {
  number: number
  bytes: number
  terminated: boolean
  /** The trimmed text; undefined for a line over MAX_LINE_BYTES. */
  text?: string
  classified?: ClassifiedLine
  error?: LineError
}

/** Streams a file's non-blank lines, each classified or with the reason it cannot be. */
export async function* classifiedLines(file: string): AsyncGenerator<ReadLine> {
  for await (const lines of readLineBatches(file)) {
    for (const line of lines) {
      const read = classifyRead(line)
      if (read !== undefined) yield read
    }
  }
}

/**
 * One line as read (readLineBatches), classified; undefined for a blank line. Classify a line
 * just before using it: a classified line is a tree of maps, and a chunk of them held at once
 * would outlive the young generation (measured: 3× the CPU per line in garbage collection).
 */
export function classifyRead(line: Line): ReadLine | undefined {
  // Object literals with their fields named (no spread of a shared base): one per line of a
  // million-line chain.
  if (line.text === undefined) {
    return {number: line.number, bytes: line.bytes, terminated: line.terminated, error: new LineError('entry', `line exceeds ${MAX_LINE_BYTES} bytes`)}
  }
  const text = line.text.trim()
  if (text === '') return undefined
  try {
    return {number: line.number, bytes: line.bytes, terminated: line.terminated, text, classified: classifyLine(text)}
  } catch (e) {
    if (!(e instanceof LineError)) throw e
    return {number: line.number, bytes: line.bytes, terminated: line.terminated, text, error: e}
  }
}

/** The number after the last `-` of `evidence-<session>-<n>.jsonl` (non-numeric: undefined). */
export function recorderFileNumber(name: string): bigint | undefined {
  const stem = path.basename(name).replace(/\.jsonl$/, '')
  const tail = stem.slice(stem.lastIndexOf('-') + 1)
  return /^\d+$/.test(tail) ? BigInt(tail) : undefined
}

/** Yields the chain items of the given files, in order. Throws ExtractionError on a bad line. */
export async function* extractChainItems(files: readonly string[], displayName: (file: string) => string = (f) => f): AsyncGenerator<ChainItem> {
  for (const file of files) {
    for await (const line of classifiedLines(file)) {
      if (line.error !== undefined) throw new ExtractionError(line.error.kind, line.error.message, displayName(file), line.number)
      if (line.classified?.item !== undefined) yield line.classified.item
    }
  }
}

function seqText(o: JsonObject): string {
  const s = o.get('chain_seq')
  return s instanceof JsonNumber ? s.text : '0'
}

function bareItem(o: JsonObject, text: string, spans: Map<string, [number, number]>): ChainItem | string {
  const recordType = o.get('record_type')
  if (recordType === 'evidence_receipt_v2') return {kind: 'evidence_v2', chainSeq: seqText(o)}
  if (recordType !== undefined) return `unknown record_type ${JSON.stringify(recordType)}`
  if (!o.has('action_record')) return 'not a flight-recorder entry or receipt (no "v" or "action_record")'
  try {
    const span = spans.get('ext')
    const receipt = parseActionReceiptTree(o, span === undefined ? undefined : text.slice(span[0], span[1]))
    return {kind: 'receipt', receipt, hasRecordObject: o.get('action_record') instanceof Map}
  } catch (e) {
    if (e instanceof ReceiptParseError) return e.message
    throw e
  }
}
