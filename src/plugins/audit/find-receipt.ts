import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'
import {ulidToUuid} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'

// `verify-receipt --find ID`: the receipt a block response named. Proxies send the receipt as
// `X-Pipelock-Block-Reason-Receipt: <ULID>` (runtime §10.1): the ULID spelling of the receipt's
// UUIDv7 `action_id` (same 128 bits), so either spelling finds it.

export interface FoundReceipt {
  readonly file: string
  readonly line: number
  readonly actionId: string
  readonly verdict: string
  readonly target: string
  readonly transport: string
  readonly layer: string
  readonly pattern: string
}

/**
 * The action_ids an ID may name: a UUID as is (lower-cased), a ULID converted to its UUID (and, as
 * a 26-character id could be either, itself), anything else verbatim (an action_id need not be a
 * UUID: the reference's conformance receipts use `conformance-00000`). An empty id names nothing.
 */
export function receiptIdToActionIds(id: string): string[] {
  if (id.trim() === '') throw new PipelockError('USAGE', '--find needs a receipt id: the ULID of an X-Pipelock-Block-Reason-Receipt header, or an action_id')
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)) return [id.toLowerCase()]
  const uuid = ulidToUuid(id)
  return uuid === undefined ? [id] : [uuid, id]
}

/** Scans the files for the action receipt with this action_id; undefined when none holds it. */
export async function findReceipt(files: readonly string[], id: string): Promise<FoundReceipt | undefined> {
  const wanted = receiptIdToActionIds(id)
  // A cheap test before a line is parsed: the id's own text, when JSON writes it unescaped.
  const needles = wanted.map((w) => (/^[\x20-\x7e]*$/.test(w) && !/["\\<>&]/.test(w) ? w : '"action_id"'))
  for (const file of files) {
    let n = 0
    const lines = createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})
    for await (const text of lines) {
      n++
      if (!needles.some((needle) => text.includes(needle))) continue
      try {
        const e = JSON.parse(text) as {detail?: {action_record?: Record<string, string>}; action_record?: Record<string, string>}
        const r = e.detail?.action_record ?? e.action_record
        if (r === undefined || typeof r.action_id !== 'string' || !wanted.includes(r.action_id)) continue
        lines.close()
        return {file, line: n, actionId: r.action_id, verdict: r.verdict ?? '', target: r.target ?? '', transport: r.transport ?? '', layer: r.layer ?? '', pattern: r.pattern ?? ''}
      } catch {
        // not a JSON line: the verifier reports it; keep looking
      }
    }
  }
  return undefined
}
