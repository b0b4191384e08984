/**
 * The operator-side envelope trust store (spec §10): a JSON array of records at
 * `$XDG_STATE_HOME/pipelock/envelope/trust.json` (else `~/.local/state/…`), 0600 in a 0750
 * directory, written atomically. The runtime verifier does not read it (it uses `trust_list`).
 */
import {lstatSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {jsonParseReason, PipelockError} from '../errors/index.js'
import {makeDirs, refuseSpecialFile, withFileUpdateLock, writeFileAtomic} from '../signing/index.js'
import {isTrustDomain, parseActor} from './spiffe.js'

export interface TrustRecord {
  trust_domain: string
  spiffe_id?: string
  key_hex: string
  key_source?: string
  added_at: string
}

const fail = (message: string): never => {
  throw new PipelockError('ENVELOPE_TRUST_INVALID', message)
}

/** The default store path and the XDG state root it must stay under. */
export function defaultStorePath(env: Readonly<Record<string, string | undefined>>, home: string): {file: string; root: string} {
  const root = env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== '' ? env.XDG_STATE_HOME : path.join(home, '.local', 'state')
  return {file: path.join(root, 'pipelock', 'envelope', 'trust.json'), root}
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

export function checkStorePath(file: string, root?: string): void {
  if (isSymlink(file) || isSymlink(path.dirname(file))) fail('trust store path must not be a symlink')
  if (root !== undefined) {
    const rel = path.relative(path.resolve(root), path.resolve(file))
    if (rel.startsWith('..') || path.isAbsolute(rel)) fail('trust store directory escapes XDG state home')
  }
}

/** A key source must be https, or http to a loopback host. */
export function checkKeySource(src: string): void {
  let u: URL
  try {
    u = new URL(src)
  } catch {
    return fail(`key source "${src}" is not a URL`)
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) fail(`key source "${src}" must be https, or http to localhost`)
}

function validate(r: TrustRecord, i: number): TrustRecord {
  const at = (m: string): never => fail(`trust store record ${i}: ${m}`)
  if (r === null || typeof r !== 'object' || Array.isArray(r)) at('is not an object')
  const rec: TrustRecord = {...r, trust_domain: String(r.trust_domain ?? '').trim().toLowerCase(), key_hex: String(r.key_hex ?? '').trim().toLowerCase()}
  if (!isTrustDomain(rec.trust_domain)) at(`trust domain "${rec.trust_domain}" is not DNS-shaped`)
  if (rec.spiffe_id !== undefined && rec.spiffe_id !== '') {
    let p
    try {
      p = parseActor(rec.spiffe_id, true)
    } catch (e) {
      return at(`spiffe_id: ${(e as Error).message}`)
    }
    if (!p.spiffe || p.trustDomain !== rec.trust_domain) at('spiffe_id is not in its trust domain')
  }
  if (!/^[0-9a-f]{64}$/.test(rec.key_hex)) at('key_hex must be 32 bytes of lowercase hex')
  if (rec.key_source !== undefined && rec.key_source !== '') {
    try {
      checkKeySource(rec.key_source)
    } catch (e) {
      at((e as Error).message)
    }
  }
  if (typeof rec.added_at !== 'string' || rec.added_at === '') at('added_at is required')
  return rec
}

/** Null when the store does not exist; [] when it is blank. */
export function loadStore(file: string, root?: string): TrustRecord[] | null {
  checkStorePath(file, root)
  try {
    refuseSpecialFile(file, 'trust store')
  } catch (e) {
    // a store error, exit 2 as every other one here (spec §10)
    fail((e as Error).message)
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    return fail(`trust store ${file}: ${(e as Error).message}`)
  }
  if (text.trim() === '') return []
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (e) {
    return fail(`trust store ${file}: ${jsonParseReason(e)}`)
  }
  if (doc === null) return []
  if (!Array.isArray(doc)) return fail(`trust store ${file}: not a JSON array`)
  return (doc as TrustRecord[]).map(validate)
}

/** Record members in the spec's order; empty optional members omitted. */
function ordered(r: TrustRecord): TrustRecord {
  return {
    trust_domain: r.trust_domain,
    ...(r.spiffe_id ? {spiffe_id: r.spiffe_id} : {}),
    key_hex: r.key_hex,
    ...(r.key_source ? {key_source: r.key_source} : {}),
    added_at: r.added_at,
  }
}

export function saveStore(file: string, records: readonly TrustRecord[], root?: string): void {
  checkStorePath(file, root)
  makeDirs(path.dirname(file), 0o750)
  writeFileAtomic(file, JSON.stringify(records.map(ordered), null, 2) + '\n', 0o600)
}

/**
 * Loads the store, lets `change` compute the new records (undefined: nothing to save) and saves
 * them, all under the store's update lock: concurrent adds and removes all land.
 */
export function updateStore<T>(file: string, root: string | undefined, change: (records: TrustRecord[]) => {records?: TrustRecord[]; result: T}): T {
  checkStorePath(file, root)
  makeDirs(path.dirname(file), 0o750)
  return withFileUpdateLock(file, () => {
    const r = change(loadStore(file, root) ?? [])
    if (r.records !== undefined) saveStore(file, r.records, root)
    return r.result
  })
}

/** A store target: a SPIFFE ID (strict) or a DNS-shaped trust domain. */
export function parseTarget(target: string): {trust_domain: string; spiffe_id?: string} {
  const t = target.trim()
  if (/^spiffe:\/\//i.test(t)) {
    try {
      const p = parseActor(t, true)
      if (p.spiffe) return {trust_domain: p.trustDomain, spiffe_id: t}
    } catch (e) {
      return fail(`trust target "${target}": ${(e as Error).message}`)
    }
  }
  const d = t.toLowerCase()
  if (!isTrustDomain(d)) fail(`trust target "${target}" must be a SPIFFE ID or DNS-shaped trust domain`)
  return {trust_domain: d}
}

/**
 * Adds `rec`, or replaces the record of the same target when `force` is set. A replaced record
 * takes the new `added_at`: the store says when the key now in it was trusted (the reference kept
 * the old time and swapped keys without asking). The same key and source again is no change.
 */
export function addRecord(records: TrustRecord[], rec: TrustRecord, force = false): {records: TrustRecord[]; status: 'trusted' | 'already trusted' | 'replaced'} {
  const i = records.findIndex((r) => r.trust_domain === rec.trust_domain && (r.spiffe_id ?? '') === (rec.spiffe_id ?? ''))
  // `verify` takes one key per trust domain: a second key for it would make every verification
  // of the domain fail, so it is refused here, where it would be written.
  const clash = records.find((r, k) => k !== i && r.trust_domain === rec.trust_domain && r.key_hex !== rec.key_hex)
  if (clash !== undefined) {
    fail(`trust domain "${rec.trust_domain}" is already trusted under another key (record ${JSON.stringify(clash.spiffe_id || clash.trust_domain)}); verify takes one key per trust domain: remove that record first, or add this one with the same key`)
  }
  if (i < 0) return {records: [...records, rec], status: 'trusted'}
  const old = records[i]!
  if (old.key_hex === rec.key_hex && (old.key_source ?? '') === (rec.key_source ?? '')) return {records, status: 'already trusted'}
  if (!force) fail(`trusted key for ${JSON.stringify(rec.spiffe_id ?? rec.trust_domain)} already exists (use --force to overwrite)`)
  const out = [...records]
  out[i] = rec
  return {records: out, status: 'replaced'}
}

/** The `list` table: Go tabwriter layout (padding 2, spaces, last column unpadded). */
export function renderTrustList(records: readonly TrustRecord[]): string[] {
  const rows = [['TRUST_DOMAIN', 'SPIFFE_ID', 'KEY', 'SOURCE', 'ADDED_AT']]
  for (const r of records) {
    rows.push([r.trust_domain, r.spiffe_id || '-', `${r.key_hex.slice(0, 12)}...${r.key_hex.slice(-4)}`, r.key_source || '-', r.added_at.replace(/\.\d+/, '')])
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join(''))
}

/** RFC 3339 with nanoseconds' trailing zeros trimmed (Go RFC3339Nano), UTC. */
export function rfc3339Now(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z')
}

/** `--store`, else the default path (which must stay under the XDG state root). */
export function storeLocation(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, home: string): {file: string; root?: string} {
  return flag !== undefined && flag !== '' ? {file: flag} : defaultStorePath(env, home)
}
