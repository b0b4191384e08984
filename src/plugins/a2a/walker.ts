/**
 * The field-aware walk over an A2A JSON body (scanners-extra §2.4): every string leaf is routed by
 * the key it sits under — URL fields to the URL scanner, text to injection and DLP, secrets to DLP —
 * and `raw` parts of a text-like media type are decoded and scanned as text (§2.8). The scanners
 * themselves are the proxy's own, handed in as `A2aScanners`; nothing here matches a pattern.
 */

export type FieldClass = 'url' | 'text' | 'secret' | 'opaque'

const URL_KEYS = new Set(['url', 'uri', 'documentationurl', 'iconurl', 'authorizationurl', 'tokenurl', 'refreshurl', 'deviceauthorizationurl', 'openidconnecturl', 'oauth2metadataurl'])
const TEXT_KEYS = new Set(['text', 'description', 'name'])
const SECRET_KEYS = new Set(['credentials', 'token', 'secret', 'apikey', 'password'])
const URI_SCHEMES = new Set(['data', 'javascript', 'mailto', 'tel', 'blob'])

export const MAX_WALK_DEPTH = 20
export const MAX_WALK_NODES = 10_000

/** The proxy's scanners as the walk uses them: findings are names only, never matched values. */
export interface A2aScanners {
  /** The full URL scan; `allowed: false` is a finding. */
  url(u: string): Promise<{readonly allowed: boolean}>
  /** Response-injection pattern names found in `text`. */
  injection(text: string): readonly string[]
  /** Enforced DLP pattern names found in `text`. */
  dlp(text: string): readonly string[]
}

export interface WalkOptions {
  /** Decode text-like `raw` parts (§2.8); off: `raw` is an opaque leaf. */
  readonly scanRawParts: boolean
  readonly maxRawSize: number
}

export interface A2aFindings {
  urlFindings: number
  readonly injection: Set<string>
  readonly dlp: Set<string>
  /** Fixed reasons (budget, unscannable raw part); each makes the result dirty. */
  readonly notes: string[]
}

export function emptyFindings(): A2aFindings {
  return {urlFindings: 0, injection: new Set(), dlp: new Set(), notes: []}
}

export function isDirty(f: A2aFindings): boolean {
  return f.urlFindings > 0 || f.injection.size > 0 || f.dlp.size > 0 || f.notes.length > 0
}

/** Key names lower-cased with `_` removed (`API_KEY` → `apikey`). */
function keyName(k: string): string {
  return k.toLowerCase().replaceAll('_', '')
}

/** §2.4 URI heuristic: `scheme://…`, or a short scheme from the list before the first `:`. */
export function looksLikeUri(s: string): boolean {
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(s)) return true
  const i = s.indexOf(':')
  return i >= 1 && i <= 11 && URI_SCHEMES.has(s.slice(0, i).toLowerCase())
}

export function classify(parentKey: string | null, value: string): FieldClass {
  const k = parentKey === null ? '' : keyName(parentKey)
  if (URL_KEYS.has(k)) return 'url'
  if (TEXT_KEYS.has(k)) return 'text'
  if (SECRET_KEYS.has(k)) return 'secret'
  return looksLikeUri(value) ? 'url' : 'opaque'
}

export interface Leaf {
  readonly cls: FieldClass
  readonly value: string
}

export class BudgetExceeded extends Error {}

const TEXT_MEDIA = /^(?:text\/[^;]+|application\/json|application\/xml|[^;]+\+(?:json|xml))$/

/** §2.8: base64 (standard, then URL alphabet; padding optional) to UTF-8, or null. */
export function decodeRawPart(raw: string): string | null {
  const s = raw.replace(/\s+/g, '')
  for (const alphabet of [/^[A-Za-z0-9+/]*={0,2}$/, /^[A-Za-z0-9_-]*={0,2}$/]) {
    if (!alphabet.test(s) || s.replace(/=+$/, '').length % 4 === 1) continue
    const buf = Buffer.from(s, alphabet.source.includes('_') ? 'base64url' : 'base64')
    const text = new TextDecoder('utf-8', {fatal: true})
    try {
      return text.decode(buf)
    } catch {
      return null
    }
  }
  return null
}

/**
 * Collects the leaves to scan, keys sorted, depth-first. Throws BudgetExceeded past the depth or
 * node budget (the reference skips a too-deep subtree silently; here it is a finding, §2.4 fix).
 */
export function collectLeaves(root: unknown, opts: WalkOptions, notes: string[]): Leaf[] {
  const leaves: Leaf[] = []
  let nodes = 0
  const count = (): void => {
    if (++nodes >= MAX_WALK_NODES) throw new BudgetExceeded()
  }
  const walk = (v: unknown, parent: string | null, depth: number): void => {
    if (depth > MAX_WALK_DEPTH) throw new BudgetExceeded()
    if (typeof v === 'string') {
      count()
      if (v !== '') leaves.push({cls: classify(parent, v), value: v})
    } else if (typeof v === 'number' || typeof v === 'boolean') {
      count()
    } else if (Array.isArray(v)) {
      for (const item of v) walk(item, parent, depth + 1)
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>
      const keys = Object.keys(o).sort()
      const raw = o.raw
      const media = typeof o.mediaType === 'string' ? o.mediaType : typeof o.media_type === 'string' ? o.media_type : ''
      const decodeRaw = opts.scanRawParts && typeof raw === 'string' && raw !== '' && TEXT_MEDIA.test(media.split(';', 1)[0]!.trim().toLowerCase())
      for (const k of keys) {
        count()
        if (looksLikeUri(k)) leaves.push({cls: 'url', value: k})
        else if (SECRET_KEYS.has(keyName(k))) leaves.push({cls: 'secret', value: k})
        if (k === 'raw' && decodeRaw) {
          count()
          const text = Buffer.byteLength(raw) <= opts.maxRawSize ? decodeRawPart(raw) : null
          if (text === null) notes.push('raw part not scannable')
          else if (text !== '') leaves.push({cls: 'text', value: text})
          continue
        }
        walk(o[k], k, depth + 1)
      }
    }
  }
  walk(root, null, 0)
  return leaves
}

/** Go `FormatFloat(v, 'f', -1, 64)`: shortest round trip, never an exponent. */
function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) >= 1e21) return BigInt(n).toString()
  const s = String(n)
  if (!/e/i.test(s)) return s
  const [mant, expStr] = s.split(/e/i) as [string, string]
  const exp = Number(expStr)
  const neg = mant.startsWith('-')
  const digits = mant.replace(/^-/, '').replace('.', '')
  const intLen = (mant.replace(/^-/, '').split('.')[0] ?? '').length
  const point = intLen + exp
  let out: string
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length)
  else out = digits.slice(0, point) + '.' + digits.slice(point)
  return (neg ? '-' : '') + out
}

/** All-strings extraction (spec §0): keys sorted, each key before its value; null skipped; depth ≤ 64. */
export function allStrings(root: unknown): string[] {
  const out: string[] = []
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64) return
    if (typeof v === 'string') out.push(v)
    else if (typeof v === 'number') out.push(goNumber(v))
    else if (typeof v === 'boolean') out.push(v ? 'true' : 'false')
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1)
    else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>
      for (const k of Object.keys(o).sort()) {
        out.push(k)
        walk(o[k], depth + 1)
      }
    }
  }
  walk(root, 0)
  return out
}

/** Routes each leaf to its scanners (§2.4 routing). */
export async function scanLeaves(leaves: readonly Leaf[], scanners: A2aScanners, f: A2aFindings): Promise<void> {
  for (const leaf of leaves) {
    if (leaf.cls === 'url') {
      if (!(await scanners.url(leaf.value)).allowed) f.urlFindings++
      continue
    }
    if (leaf.cls !== 'secret') for (const n of scanners.injection(leaf.value)) f.injection.add(n)
    for (const n of scanners.dlp(leaf.value)) f.dlp.add(n)
  }
}
