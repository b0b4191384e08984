import {readRegularFile, STORE_LOG_MAX_BYTES} from './fs-io.js'
import {storeLayout} from './paths.js'

// What a store remembers of its promotions besides active.json and manifests/: the activation
// journal (an `accepted` line per swap) and the lifecycle receipts promote and rollback write to
// <store>/activation-receipts.jsonl (an accepted committed receipt per swap). A store with no
// active.json and no accepted manifest is "nothing promoted yet" only when neither shows a swap;
// otherwise its pointer and manifests were deleted, and running it contract-free would hand every
// agent the scanner-only policy. history/ alone is no such trace: contracts may be staged there
// before the first promote.

export interface PromotionTrace {
  /** The file that shows the promotion. */
  readonly file: string
  /** What it shows, e.g. `accepted generation 3 (sha256:…)`. */
  readonly detail: string
}

function lines(file: string, what: string): string[] {
  const raw = readRegularFile(file, what, STORE_LOG_MAX_BYTES)
  return raw === undefined ? [] : raw.toString('utf8').split('\n')
}

function parse(line: string): Record<string, unknown> | undefined {
  if (line.trim() === '') return undefined
  try {
    const v: unknown = JSON.parse(line)
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** The traces of accepted swaps in the store's journal and default receipt file (the last of each). */
export function promotionTraces(root: string): PromotionTrace[] {
  const layout = storeLayout(root)
  const out: PromotionTrace[] = []
  let journal: PromotionTrace | undefined
  for (const line of lines(layout.journal, 'activation journal')) {
    const e = parse(line)
    if (e?.outcome !== 'accepted') continue
    const gen = typeof e.generation === 'number' ? ` generation ${e.generation}` : ''
    journal = {file: layout.journal, detail: `accepted${gen}${typeof e.manifest_hash === 'string' ? ` (${e.manifest_hash})` : ''}`}
  }
  if (journal !== undefined) out.push(journal)
  let receipt: PromotionTrace | undefined
  for (const line of lines(layout.receipts, 'activation receipts')) {
    const r = parse(line)
    if (r === undefined || (r.payload_kind !== 'contract_promote_committed' && r.payload_kind !== 'contract_rollback_committed')) continue
    const p = r.payload as Record<string, unknown> | undefined
    if (p?.validation_outcome !== 'accepted') continue
    const manifest = typeof r.active_manifest_hash === 'string' ? ` for manifest ${r.active_manifest_hash}` : ''
    receipt = {file: layout.receipts, detail: `accepted ${r.payload_kind as string} receipt${manifest}`}
  }
  if (receipt !== undefined) out.push(receipt)
  return out
}
