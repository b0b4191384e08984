// What a JSON file handed to `learn diff` is. The reference decodes any JSON object leniently and
// diffs it as a shadow report, so a compile manifest or a replay diff gives a diff of zeros and
// empty hashes that reads like a real result. A shadow report (learn-lifecycle §3.5 shadow.json)
// always carries report_version, contract_hash, total_records and rules; anything else is named.

/** undefined when `o` has the shape of a shadow.json report; otherwise what it looks like instead. */
export function notShadowReport(o: unknown): string | undefined {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return undefined // the decoder says why
  const r = o as Record<string, unknown>
  if ('report_version' in r && 'contract_hash' in r && 'total_records' in r && 'rules' in r) return undefined
  return looksLike(r)
}

function looksLike(r: Record<string, unknown>): string {
  const body = r.body !== null && typeof r.body === 'object' && !Array.isArray(r.body) ? (r.body as Record<string, unknown>) : undefined
  if ('original_config_hash' in r || 'candidate_config_hash' in r) return 'a capture replay diff (original_config_hash, candidate_config_hash)'
  if (body !== undefined) {
    if ('compile_started_at' in body || 'module_digests' in body) return 'a compile manifest (learn compile writes it next to the candidate)'
    if ('rules' in body && 'contract_hash' in body) return 'a signed contract'
    if ('generation' in body || 'selectors' in body) return 'an active manifest of a contract store'
    if ('policy_kind' in body) return 'a contract store policy'
    if ('keys' in body && 'roster_signed_by' in body) return 'a key roster'
    if ('tombstone' in body) return 'a tombstone'
  }
  if ('payload_kind' in r || 'payload' in r) return 'a receipt'
  if ('key_id' in r && ('private' in r || 'public' in r)) return 'a key file'
  const keys = Object.keys(r).slice(0, 6)
  return keys.length === 0 ? 'an empty JSON object' : `a JSON object with keys ${keys.join(', ')}${Object.keys(r).length > keys.length ? ', …' : ''}`
}
