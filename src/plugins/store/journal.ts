import {formatGoTime, fromEpochNanos, goJson, JsonNumber, type Clock, type JsonObject, type JsonValue} from '../canonical/index.js'
import {appendLine} from './fs-io.js'

// The activation journal (§5.5): one compact JSON object per line, keys in the order shown,
// empty/zero fields omitted, `ts` = clock in UTC (Go RFC3339Nano).

export interface JournalEntry {
  outcome: 'accepted' | 'rejected'
  reason?: string
  manifestHash?: string
  generation?: bigint
  priorManifestHash?: string
  signerKeyIds?: readonly string[]
}

export function journalLine(clock: Clock, e: JournalEntry): string {
  const m: JsonObject = new Map<string, JsonValue>([
    ['ts', formatGoTime(fromEpochNanos(clock.nowNanos()))],
    ['outcome', e.outcome],
  ])
  if (e.reason) m.set('reason', e.reason)
  if (e.manifestHash) m.set('manifest_hash', e.manifestHash)
  if (e.generation !== undefined && e.generation !== 0n) m.set('generation', new JsonNumber(e.generation.toString()))
  if (e.priorManifestHash) m.set('prior_manifest_hash', e.priorManifestHash)
  if (e.signerKeyIds !== undefined && e.signerKeyIds.length > 0) m.set('signer_key_ids', [...e.signerKeyIds])
  return goJson(m)
}

export function appendJournal(file: string, clock: Clock, e: JournalEntry): void {
  appendLine(file, journalLine(clock, e))
}
