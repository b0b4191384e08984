import {lstat, readdir} from 'node:fs/promises'
import path from 'node:path'
import {JsonNumber, JsonSyntaxError, parseStrictJson, type JsonObject} from '../canonical/index.js'
import {parseActionReceiptText, parseActionReceiptTree, ReceiptParseError} from './action-receipt.js'
import type {ChainItem} from './chain.js'
import {readLines, MAX_LINE_BYTES} from './line-reader.js'
import {EntryError, entryFromObject} from './recorder-entry.js'

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
  const prefix = `evidence-${sessionId}-`
  const names = (await readdir(dir)).filter((n) => n.startsWith(prefix) && n.endsWith('.jsonl'))
  const files: {name: string; n: bigint}[] = []
  for (const name of names) {
    const st = await lstat(path.join(dir, name))
    if (!st.isFile()) continue // regular files only: a symlink is not followed
    const stem = name.slice(0, -'.jsonl'.length)
    const tail = stem.slice(stem.lastIndexOf('-') + 1)
    files.push({name, n: /^\d+$/.test(tail) ? BigInt(tail) : 0n})
  }
  files.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : a.name < b.name ? -1 : 1))
  return files.map((f) => path.join(dir, f.name))
}

/** Yields the chain items of the given files, in order. Throws ExtractionError on a bad line. */
export async function* extractChainItems(files: readonly string[], displayName: (file: string) => string = (f) => f): AsyncGenerator<ChainItem> {
  for (const file of files) {
    const shown = displayName(file)
    for await (const line of readLines(file)) {
      const fail = (msg: string): never => {
        throw new ExtractionError('entry', msg, shown, line.number)
      }
      if (line.text === undefined) fail(`line exceeds ${MAX_LINE_BYTES} bytes`)
      const text = (line.text as string).trim()
      if (text === '') continue
      let parsed
      try {
        parsed = parseStrictJson(text, {topLevelSpans: true})
      } catch (e) {
        if (e instanceof JsonSyntaxError) fail(`parsing entry: ${e.message}`)
        throw e
      }
      const obj = parsed.value
      if (!(obj instanceof Map)) fail(`parsing entry: not a JSON object`)
      const spans = parsed.spans as Map<string, [number, number]>
      const o = obj as JsonObject
      if (!o.has('v')) {
        // Not an entry: a bare receipt line (v1, or a v2 envelope which cannot be chained).
        const item = bareItem(o, text, spans)
        if (typeof item === 'string') fail(`${item}`)
        yield item as ChainItem
        continue
      }
      let entry
      try {
        entry = entryFromObject(o, spans, text)
      } catch (e) {
        if (e instanceof EntryError) fail(`${e.message}`)
        throw e
      }
      if (entry.type !== 'action_receipt') continue
      let detailText = entry.detailRaw
      if (typeof entry.detail === 'string') detailText = entry.detail // a JSON-string detail (pyverify form)
      try {
        const detailObj = typeof entry.detail === 'string' ? parseStrictJson(detailText).value : entry.detail
        if (detailObj instanceof Map && detailObj.get('record_type') === 'evidence_receipt_v2') {
          yield {kind: 'evidence_v2', chainSeq: seqText(detailObj)}
          continue
        }
        // The detail is already parsed; only an `ext` member needs its source text (its bytes,
        // not its value, enter the receipt hash), so the text is re-read only in that case.
        const receipt =
          detailObj instanceof Map && detailObj.has('ext') ? parseActionReceiptText(detailText) : parseActionReceiptTree(detailObj)
        yield {kind: 'receipt', receipt, hasRecordObject: detailObj instanceof Map && detailObj.get('action_record') instanceof Map}
      } catch (e) {
        if (e instanceof ReceiptParseError || e instanceof JsonSyntaxError) {
          const msg = e instanceof JsonSyntaxError ? `unmarshal receipt: ${e.message}` : e.message
          throw new ExtractionError('receipt', `unmarshal existing receipt at seq ${entry.seq}: ${msg}`, shown, line.number)
        }
        throw e
      }
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
