/**
 * Agent Card drift ("rug pull", scanners-extra §2.6): a semantic hash over the fields that change
 * what an agent will do (name, description, skills, interfaces, capabilities, security, modes),
 * compared with the first card seen for the same URL and caller. Version, provider and cosmetic
 * URLs are left out so a routine release does not trip it.
 */
import {createHash} from 'node:crypto'

/** An LRU map bounded by `max` entries (Map keeps insertion order; a hit re-inserts). */
export class BoundedLru<V> {
  private readonly map = new Map<string, V>()
  constructor(private max: number) {}
  get size(): number {
    return this.map.size
  }
  resize(max: number): void {
    this.max = max
    this.trim()
  }
  get(k: string): V | undefined {
    const v = this.map.get(k)
    if (v !== undefined) {
      this.map.delete(k)
      this.map.set(k, v)
    }
    return v
  }
  has(k: string): boolean {
    return this.map.has(k)
  }
  /** Sets `k`; returns the keys evicted to stay within the bound. */
  set(k: string, v: V): string[] {
    this.map.delete(k)
    this.map.set(k, v)
    return this.trim()
  }
  private trim(): string[] {
    const evicted: string[] = []
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as string
      this.map.delete(oldest)
      evicted.push(oldest)
    }
    return evicted
  }
}

/** Sorted keys, no whitespace; the raw text when it is not JSON, '' when absent. */
function canonical(v: unknown): string {
  if (v === undefined) return ''
  const sort = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(sort)
    if (x !== null && typeof x === 'object') {
      const o = x as Record<string, unknown>
      return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sort(o[k])]))
    }
    return x
  }
  return JSON.stringify(sort(v))
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const arr = (v: unknown): Record<string, unknown>[] => (Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x)) : [])
const byKeys = (...keys: string[]) => (a: Record<string, unknown>, b: Record<string, unknown>): number => {
  for (const k of keys) {
    const x = str(a[k])
    const y = str(b[k])
    if (x !== y) return x < y ? -1 : 1
  }
  return 0
}
/** Absent 0, false 1, true 2 (so "false" and "absent" differ). */
const flag = (v: unknown): number => (v === true ? 2 : v === false ? 1 : 0)

/** §2.6 step 4: the semantic hash of a parsed card (hex SHA-256). */
export function cardSemanticHash(card: Record<string, unknown>): string {
  const h = createHash('sha256')
  const s = (v: string): void => {
    h.update(v, 'utf8')
    h.update(Buffer.of(0))
  }
  s(str(card.name))
  s(str(card.description))
  for (const sk of [...arr(card.skills)].sort(byKeys('id', 'name'))) {
    s(str(sk.id))
    s(str(sk.name))
    s(str(sk.description))
    s(canonical(sk.inputSchema))
    s(canonical(sk.outputSchema))
  }
  for (const i of [...arr(card.supportedInterfaces)].sort(byKeys('url', 'protocolBinding'))) {
    s(str(i.url))
    s(str(i.protocolBinding))
    s(str(i.tenant))
    s(str(i.protocolVersion))
  }
  const caps = (card.capabilities !== null && typeof card.capabilities === 'object' ? card.capabilities : {}) as Record<string, unknown>
  h.update(Buffer.of(flag(caps.streaming), flag(caps.pushNotifications), flag(caps.extendedAgentCard)))
  for (const e of [...arr(caps.extensions)].sort(byKeys('uri', 'description'))) {
    s(str(e.uri))
    s(str(e.description))
    h.update(Buffer.of(flag(e.required)))
    s(canonical(e.params))
  }
  s(canonical(card.securitySchemes))
  s(canonical(card.securityRequirements))
  const modes = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').sort() : [])
  for (const m of modes(card.defaultInputModes)) s(m)
  for (const m of modes(card.defaultOutputModes)) s(m)
  return h.digest('hex')
}

/** First 8 bytes of SHA-256(Authorization) in hex; '' without the header. */
export function authFingerprint(authorization: string | undefined): string {
  if (authorization === undefined || authorization === '') return ''
  return createHash('sha256').update(authorization, 'utf8').digest('hex').slice(0, 16)
}

export const CARD_BASELINE_ENTRIES = 1000

/**
 * Trust on first use per (card URL, auth fingerprint), one per proxy process, kept across config
 * reloads. A drifted card is never promoted: it keeps reporting drift until restart (§2.6 step 3).
 */
export class CardBaseline {
  private readonly lru = new BoundedLru<string>(CARD_BASELINE_ENTRIES)
  get size(): number {
    return this.lru.size
  }
  /** 'first' (stored), 'same' or 'drift'. */
  check(url: string, fingerprint: string, hash: string): 'first' | 'same' | 'drift' {
    const key = `${url}\u0000${fingerprint}`
    const seen = this.lru.get(key)
    if (seen === undefined) {
      this.lru.set(key, hash)
      return 'first'
    }
    return seen === hash ? 'same' : 'drift'
  }
}
