/**
 * The URL scanner's memo of stages 1–13 for host-only URLs (bench: connect, CONNECT admission). Every
 * CONNECT tunnel is scanned as `https://host/`, and most tunnels of a proxy go to a few hosts; the
 * parse, host canonicalisation, allow/blocklists, core SSRF on literals, the DLP target screen,
 * seed/literal-secret/canary search and the entropy checks gave the same answer for that string
 * each time — on a cold proxy, in the interpreter, about a tenth of a tunnel's admission CPU.
 * Those stages read nothing but the URL and the scanner's state, which is immutable (a config
 * reload or another profile builds another scanner), so their outcome is kept per scanner object:
 * a new scanner starts with an empty memo and the old one's goes with it. DNS, rate limit, length,
 * data budget and cancellation (stages 0 and 14–18) run on every scan, as before.
 *
 * Only `scheme://host/` strings are kept (no path, query or fragment), at most 256 per scanner
 * (the oldest goes first), so a client cycling hosts costs a recomputation, not memory.
 */
const MAX_ENTRIES = 256
/** Longer strings are scanned afresh (a key's size bounds the memo's memory). */
export const MAX_KEY_CHARS = 300


/** Whether `rawUrl` is `http://host/` or `https://host/` (the form a CONNECT tunnel is scanned as). */
export function hostOnlyUrl(rawUrl: string): boolean {
  if (rawUrl.length > MAX_KEY_CHARS) return false
  const from = rawUrl.startsWith('https://') ? 8 : rawUrl.startsWith('http://') ? 7 : -1
  if (from < 0) return false
  // The first '/' after the authority is the string's last character; '?' and '#' end an
  // authority too, so a host-only URL has neither.
  return rawUrl.indexOf('/', from) === rawUrl.length - 1 && !rawUrl.includes('?') && !rawUrl.includes('#')
}

/** A bounded map (256 entries) keeping the oldest-first order of insertion; also the host facts' memo (url-host-facts.ts). */
export class BoundedMemo<V> {
  private readonly map = new Map<string, V>()

  get(key: string): V | undefined {
    return this.map.get(key)
  }

  set(key: string, value: V): void {
    if (this.map.size >= MAX_ENTRIES) this.map.delete(this.map.keys().next().value as string)
    this.map.set(key, value)
  }

  get size(): number {
    return this.map.size
  }
}

/** A `BoundedMemo` per owner (a URL scanner), made on its first use and gone with the owner. */
export class OwnerMemos<V> {
  private readonly memos = new WeakMap<object, BoundedMemo<V>>()

  of(owner: object): BoundedMemo<V> {
    let m = this.memos.get(owner)
    if (m === undefined) this.memos.set(owner, (m = new BoundedMemo<V>()))
    return m
  }

  /** How many entries `owner`'s memo holds (tests). */
  size(owner: object): number {
    return this.memos.get(owner)?.size ?? 0
  }
}

const outcomes = new OwnerMemos<unknown>()

/** The memo `owner` (a URL scanner) keeps for `rawUrl`, or null when `rawUrl` is not host-only. */
export function hostStageMemo<V>(owner: object, rawUrl: string): {get(key: string): V | undefined; set(key: string, value: V): void} | null {
  return hostOnlyUrl(rawUrl) ? (outcomes.of(owner) as BoundedMemo<V>) : null
}

/** How many outcomes `owner` keeps (tests). */
export function hostStageMemoSize(owner: object): number {
  return outcomes.size(owner)
}
