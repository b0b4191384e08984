import {lazyYaml} from '../canonical/index.js'
import {compileAsWritten} from '../scanner/index.js'

// Rule bundle files (scanners-extra.md §5.3): `bundle.yaml`, one YAML document, unknown fields
// rejected at every level; messages prefixed `validate bundle: ` (and `rule[<i>]: ` per rule).

export const MAX_BUNDLE_BYTES = 1024 * 1024
export const MAX_RULES = 1000
export const KNOWN_FEATURES = new Set(['dlp', 'injection', 'tool_poison', 'chain', 'ssrf', 'response', 'encoding_aware', 'checksum'])

export type RuleType = 'dlp' | 'injection' | 'tool-poison'
export type Confidence = 'high' | 'medium' | 'low'

export interface BundleRule {
  id: string
  type: RuleType
  status: 'experimental' | 'stable' | 'deprecated'
  name: string
  description: string
  severity: 'critical' | 'high' | 'medium' | 'low'
  confidence: Confidence
  references?: string[]
  tags?: string[]
  pattern: {regex: string; scanField?: 'description' | 'name'}
}

export interface Bundle {
  formatVersion: 1 | 2
  name: string
  version: string
  author: string
  description: string
  homepage?: string
  license?: string
  minPipelock?: string
  tier?: 'standard' | 'community' | 'pro'
  monotonicVersion?: number
  publishedAt?: string
  expiresAt?: string
  keyId?: string
  requiredFeatures?: string[]
  rules: BundleRule[]
}

export class BundleError extends Error {}

const NAME = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/
const RULE_ID = /^[a-z0-9][a-z0-9-]{1,94}[a-z0-9]$/
const CALVER = /^[1-9]\d{3}\.(?:[1-9]|1[0-2])\.\d+$/
const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?$/
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/
const FEATURE = /^[a-z][a-z0-9_]{0,63}$/

const TOP_V1 = ['format_version', 'name', 'version', 'author', 'description', 'homepage', 'license', 'min_pipelock', 'rules']
const TOP_V2 = [...TOP_V1, 'tier', 'monotonic_version', 'published_at', 'expires_at', 'key_id', 'required_features']
const RULE_KEYS = ['id', 'type', 'status', 'name', 'description', 'severity', 'confidence', 'references', 'tags', 'pattern']
const PATTERN_KEYS = ['regex', 'scan_field', 'exempt_domains']

type Obj = Record<string, unknown>

const fail = (m: string): never => {
  throw new BundleError(`validate bundle: ${m}`)
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function unknownKeys(o: Obj, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) fail(`${where}unknown field "${k}"`)
}

function str(o: Obj, k: string, where = ''): string {
  const v = o[k]
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') fail(`${where}${k} must be a string`)
  return v as string
}

function strList(o: Obj, k: string, where: string): string[] | undefined {
  const v = o[k]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail(`${where}${k} must be a list of strings`)
  return v as string[]
}

/** Compares `[v]X.Y.Z[-pre]` numerically: <0, 0, >0. */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER.exec(a)
  const pb = SEMVER.exec(b)
  if (pa === null || pb === null) return 0
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i])
    if (d !== 0) return d
  }
  return 0
}

/** Parses and validates `bundle.yaml` bytes. */
export function parseBundle(bytes: Buffer): Bundle {
  if (bytes.length > MAX_BUNDLE_BYTES) fail(`bundle is ${bytes.length} bytes, larger than ${MAX_BUNDLE_BYTES}`)
  let doc: unknown
  try {
    doc = lazyYaml().parse(bytes.toString('utf8'), {uniqueKeys: true, strict: true, prettyErrors: false})
  } catch (e) {
    throw new BundleError(`parse bundle: ${(e as Error).message.split('\n')[0]}`)
  }
  if (!isObj(doc)) fail('bundle must be a YAML mapping')
  const d = doc as Obj
  const fv = d.format_version
  if (fv !== 1 && fv !== 2) fail(`format_version must be 1-2, got ${String(fv)}`)
  unknownKeys(d, fv === 2 ? TOP_V2 : TOP_V1, '')
  const name = str(d, 'name')
  if (!NAME.test(name)) fail(`invalid bundle name "${name}"`)
  const version = str(d, 'version')
  if (!CALVER.test(version)) fail(`invalid version "${version}" (want CalVer YYYY.M.patch)`)
  const author = str(d, 'author')
  if (author.trim() === '') fail('author must be non-empty')
  const description = str(d, 'description')
  if (description.trim() === '') fail('description must be non-empty')
  const b: Bundle = {formatVersion: fv as 1 | 2, name, version, author, description, rules: []}
  for (const [k, f] of [['homepage', 'homepage'], ['license', 'license']] as const) {
    const v = str(d, k)
    if (v !== '') b[f] = v
  }
  const minP = str(d, 'min_pipelock')
  if (minP !== '') {
    if (!SEMVER.test(minP)) fail(`invalid min_pipelock "${minP}"`)
    b.minPipelock = minP
  }
  if (fv === 2) {
    const tier = str(d, 'tier')
    if (!['standard', 'community', 'pro'].includes(tier)) fail(`invalid tier "${tier}"`)
    b.tier = tier as Bundle['tier']
    const mv = d.monotonic_version
    if (typeof mv !== 'number' || !Number.isInteger(mv) || mv <= 0) fail('monotonic_version must be an integer > 0')
    b.monotonicVersion = mv as number
    for (const [k, f] of [['published_at', 'publishedAt'], ['expires_at', 'expiresAt']] as const) {
      const v = str(d, k)
      if (!RFC3339.test(v)) fail(`${k} must be an RFC 3339 time`)
      b[f] = v
    }
    const keyId = str(d, 'key_id')
    if (keyId === '') fail('key_id must be non-empty')
    b.keyId = keyId
    const rf = strList(d, 'required_features', '') ?? []
    for (const f of rf) if (!FEATURE.test(f)) fail(`invalid required feature "${f}"`)
    b.requiredFeatures = rf
  }
  const rules = d.rules
  if (!Array.isArray(rules)) fail('rules must be a list')
  const list = rules as unknown[]
  if (list.length > MAX_RULES) fail(`too many rules: ${list.length} (max ${MAX_RULES})`)
  const seen = new Set<string>()
  list.forEach((r, i) => {
    const where = `rule[${i}]: `
    if (!isObj(r)) fail(`${where}must be a mapping`)
    const o = r as Obj
    unknownKeys(o, RULE_KEYS, where)
    const id = str(o, 'id', where)
    if (!RULE_ID.test(id)) fail(`${where}invalid id "${id}"`)
    if (seen.has(id)) fail(`${where}duplicate id "${id}"`)
    seen.add(id)
    const type = str(o, 'type', where)
    if (!['dlp', 'injection', 'tool-poison'].includes(type)) fail(`${where}invalid type "${type}" for rule "${id}"`)
    const status = str(o, 'status', where)
    if (!['experimental', 'stable', 'deprecated'].includes(status)) fail(`${where}invalid status "${status}" for rule "${id}"`)
    const rname = str(o, 'name', where)
    if (rname.trim() === '') fail(`${where}name must be non-empty for rule "${id}"`)
    const rdesc = str(o, 'description', where)
    if (rdesc.trim() === '') fail(`${where}description must be non-empty for rule "${id}"`)
    const severity = str(o, 'severity', where)
    if (!['critical', 'high', 'medium', 'low'].includes(severity)) fail(`${where}invalid severity "${severity}" for rule "${id}"`)
    const confidence = str(o, 'confidence', where)
    if (!['high', 'medium', 'low'].includes(confidence)) fail(`${where}invalid confidence "${confidence}" for rule "${id}"`)
    const p = o.pattern
    if (!isObj(p)) fail(`${where}pattern must be a mapping for rule "${id}"`)
    const po = p as Obj
    unknownKeys(po, PATTERN_KEYS, `${where}pattern: `)
    const regex = str(po, 'regex', where)
    if (regex === '') fail(`${where}pattern.regex must be non-empty for rule "${id}"`)
    if (Buffer.byteLength(regex) > 4096) fail(`${where}pattern.regex exceeds 4096 bytes for rule "${id}"`)
    try {
      compileAsWritten(regex)
    } catch (e) {
      fail(`${where}pattern.regex does not compile for rule "${id}": ${(e as Error).message}`)
    }
    const sf = str(po, 'scan_field', where)
    if (sf !== '' && type !== 'tool-poison') fail(`${where}pattern.scan_field is only for tool-poison rules (rule "${id}")`)
    if (sf !== '' && sf !== 'description' && sf !== 'name') fail(`${where}invalid pattern.scan_field "${sf}" for rule "${id}"`)
    const rule: BundleRule = {
      id,
      type: type as RuleType,
      status: status as BundleRule['status'],
      name: rname,
      description: rdesc,
      severity: severity as BundleRule['severity'],
      confidence: confidence as Confidence,
      pattern: {regex, ...(type === 'tool-poison' ? {scanField: (sf || 'description') as 'description' | 'name'} : {})},
    }
    const refs = strList(o, 'references', where)
    if (refs !== undefined) rule.references = refs
    const tags = strList(o, 'tags', where)
    if (tags !== undefined) rule.tags = tags
    b.rules.push(rule)
  })
  return b
}
