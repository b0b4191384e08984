/**
 * The structural diff of two effective policies (operations.md §8.2 item 3): the canonical policy
 * view (defaults merged, secrets masked as `<set>`, operational sections left out — the view the
 * policy hash digests, with the secret values it keeps masked as well), compared path by path. Lists of scalars (`api_allowlist`, blocklists,
 * CIDRs…) diff per element (`add` / `remove`), other lists by index, maps by key; at most 200
 * entries, sorted by path then op. Pure.
 */
import {compareUtf8} from '../canonical/index.js'
import {sha256Hex} from '../signing/index.js'
import {canonicalPolicyJson} from './hash.js'
import type {PipelockConfig} from './schema.js'

export const MAX_CHANGES = 200

export interface PolicyChange {
  readonly path: string
  readonly op: 'set' | 'add' | 'remove'
  readonly old?: unknown
  readonly new?: unknown
}

export interface PolicyDiff {
  readonly changes: readonly PolicyChange[]
  readonly truncated: boolean
  /** How many changes there are in all (the list stops at MAX_CHANGES). */
  readonly total: number
  /** `changes_sha256` of the untruncated list, and its distinct paths (for the signed receipt). */
  readonly sha256: string
  readonly paths: readonly string[]
}

/** The masked canonical view of a config (what the diff reads): the policy hash's, with VIEW_MASKED_FIELDS masked too. */
export function policyView(c: PipelockConfig): unknown {
  return JSON.parse(canonicalPolicyJson(c, {view: true})) as unknown
}

const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object'

function walk(path: string, a: unknown, b: unknown, out: PolicyChange[]): void {
  if (JSON.stringify(a) === JSON.stringify(b)) return
  if (a === undefined) return void out.push({path, op: 'add', new: b})
  if (b === undefined) return void out.push({path, op: 'remove', old: a})
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.every(isScalar) && b.every(isScalar)) {
      const key = (v: unknown): string => JSON.stringify(v)
      const before = new Set(a.map(key))
      const after = new Set(b.map(key))
      for (const v of a) if (!after.has(key(v))) out.push({path, op: 'remove', old: v})
      for (const v of b) if (!before.has(key(v))) out.push({path, op: 'add', new: v})
      return
    }
    for (let i = 0; i < Math.max(a.length, b.length); i++) walk(`${path}[${i}]`, a[i], b[i], out)
    return
  }
  if (!isScalar(a) && !isScalar(b) && !Array.isArray(a) && !Array.isArray(b)) {
    const ao = a as Record<string, unknown>
    const bo = b as Record<string, unknown>
    for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) walk(path === '' ? k : `${path}.${k}`, ao[k], bo[k], out)
    return
  }
  out.push({path, op: 'set', old: a, new: b})
}

export function diffPolicyViews(prev: unknown, next: unknown): PolicyDiff {
  const out: PolicyChange[] = []
  walk('', prev, next, out)
  out.sort((x, y) => compareUtf8(x.path, y.path) || compareUtf8(x.op, y.op) || compareUtf8(JSON.stringify(x.old ?? x.new), JSON.stringify(y.old ?? y.new)))
  return {
    changes: out.slice(0, MAX_CHANGES), truncated: out.length > MAX_CHANGES, total: out.length,
    sha256: changesSha256(out), paths: [...new Set(out.map((c) => c.path))],
  }
}

export function diffPolicies(prev: PipelockConfig, next: PipelockConfig): PolicyDiff {
  return diffPolicyViews(policyView(prev), policyView(next))
}

/** `changes_sha256`: hex SHA-256 of the canonical JSON of the whole changes list (binds the audit diff). */
export function changesSha256(changes: readonly PolicyChange[]): string {
  return sha256Hex(Buffer.from(JSON.stringify(changes), 'utf8'))
}
