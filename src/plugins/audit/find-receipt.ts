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

/** The action_id an ID names: a UUID as is (lower-cased), a ULID converted. */
export function receiptIdToActionId(id: string): string {
  if (/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(id)) return id.toLowerCase()
  const uuid = ulidToUuid(id)
  if (uuid === undefined) throw new PipelockError('USAGE', `--find ${JSON.stringify(id)} is neither a receipt ULID (26 Crockford base32 characters) nor an action_id UUID`)
  return uuid
}

/** Scans the files for the action receipt with this action_id; undefined when none holds it. */
export async function findReceipt(files: readonly string[], id: string): Promise<FoundReceipt | undefined> {
  const actionId = receiptIdToActionId(id)
  const needle = `"action_id":"${actionId}"`
  for (const file of files) {
    let n = 0
    const lines = createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})
    for await (const text of lines) {
      n++
      if (!text.includes(needle)) continue
      try {
        const e = JSON.parse(text) as {detail?: {action_record?: Record<string, string>}; action_record?: Record<string, string>}
        const r = e.detail?.action_record ?? e.action_record
        if (r === undefined || r.action_id !== actionId) continue
        lines.close()
        return {file, line: n, actionId, verdict: r.verdict ?? '', target: r.target ?? '', transport: r.transport ?? '', layer: r.layer ?? '', pattern: r.pattern ?? ''}
      } catch {
        // not a JSON line: the verifier reports it; keep looking
      }
    }
  }
  return undefined
}
