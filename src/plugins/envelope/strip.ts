/**
 * Inbound strip (spec §5, anti-spoofing): every `Pipelock-Mediation` line goes; `pipelock*`
 * members leave `Signature`/`Signature-Input`, parsed as RFC 8941 Dictionaries so a comma inside
 * a quoted parameter cannot split a member (E23: the comma split this replaces broke `sig1`).
 */
import {parseDictionary, serializeDictionary} from './sfv.js'

/**
 * The value a `Signature`/`Signature-Input` header keeps, or undefined to drop it. Unparseable
 * text survives only when it does not mention `pipelock` anywhere (case-insensitive).
 */
export function stripSignatureHeader(lines: readonly string[]): string | string[] | undefined {
  try {
    const d = parseDictionary(lines)
    const kept = d.filter(([k]) => !k.startsWith('pipelock'))
    if (kept.length === d.length) return lines.length === 1 ? lines[0] : [...lines]
    return kept.length === 0 ? undefined : serializeDictionary(kept)
  } catch {
    return /pipelock/i.test(lines.join('\n')) ? undefined : lines.length === 1 ? lines[0] : [...lines]
  }
}
