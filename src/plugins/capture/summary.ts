import {goJson, goQuote, fromPlain, type JsonObject, type JsonValue} from '../canonical/index.js'

/** A finding inside a capture summary (§2.5; object order: `kind` then omit-empty fields). */
export interface CaptureFinding {
  kind: string
  action?: string
  severity?: string
  pattern_name?: string
  encoded?: string
  match_text?: string
  chain?: string
  addr_verdict?: string
  tool_name?: string
  drift_type?: string
  poison_signal?: string
  policy_rule?: string
  redirect_to?: string
  tool_sequence?: string[]
}

export interface CaptureRequest {
  method: string
  url: string
  headers?: Record<string, string[]>
  body_sample?: string
  tool_name?: string
  tool_args_json?: string
  mcp_method?: string
  /** [ext, mcp.md §15.6.1] the server identity the runtime passes to `evaluateMcp`; omit-empty. */
  mcp_server?: string
}

/** The `detail` of a `type: capture` entry (§2.5). */
export interface CaptureSummary {
  capture_schema_version: number
  surface: string
  subsurface: string
  batch_index?: number
  config_hash: string
  build_version: string
  build_sha: string
  agent?: string
  session_id_original?: string
  profile?: string
  action_class?: string
  payload_ref?: string
  payload_sha256?: string
  payload_bytes?: number
  payload_complete: boolean
  transform_kind: string
  wire_payload_bytes?: number
  wire_payload_sample?: string
  scanner_bytes?: number
  scanner_sample?: string
  request: CaptureRequest
  raw_findings: CaptureFinding[] | null
  effective_findings: CaptureFinding[] | null
  effective_action: string
  outcome: string
  skip_reason?: string
}

export const ACTION_CLASSES = ['read', 'derive', 'write', 'delegate', 'authorize', 'spend', 'commit', 'actuate', 'unclassified'] as const

/** Writer rule: trim + lowercase; anything outside the canonical list is omitted, never defaulted. */
export function canonicalActionClass(input: string | undefined): string | undefined {
  if (input === undefined) return undefined
  const v = input.trim().toLowerCase()
  return (ACTION_CLASSES as readonly string[]).includes(v) ? v : undefined
}

const SAMPLE_BYTES = 256

/** First 256 bytes; a split UTF-8 tail becomes U+FFFD as Go's encoder writes it. */
export function cutSample(s: string): string {
  const b = Buffer.from(s, 'utf8')
  if (b.length <= SAMPLE_BYTES) return s
  return b.subarray(0, SAMPLE_BYTES).toString('utf8')
}

function finding(f: CaptureFinding): JsonObject {
  const m: JsonObject = new Map()
  m.set('kind', f.kind)
  for (const k of ['action', 'severity', 'pattern_name', 'encoded', 'match_text', 'chain', 'addr_verdict', 'tool_name', 'drift_type', 'poison_signal', 'policy_rule', 'redirect_to'] as const) {
    const v = f[k]
    if (v !== undefined && v !== '') m.set(k, v)
  }
  if (f.tool_sequence !== undefined && f.tool_sequence.length > 0) m.set('tool_sequence', f.tool_sequence)
  return m
}

function put(m: JsonObject, k: string, v: string | number | undefined, omitEmpty: boolean): void {
  if (v === undefined || v === '' || v === 0) {
    if (!omitEmpty) m.set(k, fromPlain(v ?? (typeof v === 'number' ? 0 : '')))
    return
  }
  m.set(k, fromPlain(v))
}

/** The summary as the writer emits it: Go field order, omit-empty rules of §2.5. */
export function summaryTree(s: CaptureSummary): JsonObject {
  const m: JsonObject = new Map()
  m.set('capture_schema_version', fromPlain(s.capture_schema_version))
  m.set('surface', s.surface)
  m.set('subsurface', s.subsurface)
  if (s.batch_index !== undefined) m.set('batch_index', fromPlain(s.batch_index))
  m.set('config_hash', s.config_hash)
  m.set('build_version', s.build_version)
  m.set('build_sha', s.build_sha)
  put(m, 'agent', s.agent, true)
  put(m, 'session_id_original', s.session_id_original, true)
  put(m, 'profile', s.profile, true)
  put(m, 'action_class', canonicalActionClass(s.action_class), true)
  put(m, 'payload_ref', s.payload_ref, true)
  put(m, 'payload_sha256', s.payload_sha256, true)
  put(m, 'payload_bytes', s.payload_bytes, true)
  m.set('payload_complete', s.payload_complete)
  m.set('transform_kind', s.transform_kind)
  put(m, 'wire_payload_bytes', s.wire_payload_bytes, true)
  put(m, 'wire_payload_sample', s.wire_payload_sample === undefined ? undefined : cutSample(s.wire_payload_sample), true)
  put(m, 'scanner_bytes', s.scanner_bytes, true)
  put(m, 'scanner_sample', s.scanner_sample === undefined ? undefined : cutSample(s.scanner_sample), true)
  const r: JsonObject = new Map()
  r.set('method', s.request.method)
  r.set('url', s.request.url)
  if (s.request.headers !== undefined && Object.keys(s.request.headers).length > 0) {
    const h: JsonObject = new Map()
    for (const k of Object.keys(s.request.headers).sort()) h.set(k, s.request.headers[k] as JsonValue)
    r.set('headers', h)
  }
  put(r, 'body_sample', s.request.body_sample === undefined ? undefined : cutSample(s.request.body_sample), true)
  put(r, 'tool_name', s.request.tool_name, true)
  put(r, 'tool_args_json', s.request.tool_args_json, true)
  put(r, 'mcp_method', s.request.mcp_method, true)
  put(r, 'mcp_server', s.request.mcp_server, true)
  m.set('request', r)
  m.set('raw_findings', s.raw_findings === null || s.raw_findings.length === 0 ? null : s.raw_findings.map(finding))
  m.set('effective_findings', s.effective_findings === null || s.effective_findings.length === 0 ? null : s.effective_findings.map(finding))
  // The writer never records an empty action: "" means the request went through.
  m.set('effective_action', s.effective_action === '' ? 'allow' : s.effective_action)
  m.set('outcome', s.outcome)
  put(m, 'skip_reason', s.skip_reason, true)
  return m
}

/**
 * GoJSON(summaryTree(s)), written in one pass: capture builds one summary per proxy decision and
 * the tree (a Map per object, a JsonNumber per integer) was most of capture's cost. The same
 * rules as the tree, field by field; capture tests compare the two byte for byte.
 */
export function summaryJson(s: CaptureSummary): string {
  let j = `{"capture_schema_version":${int(s.capture_schema_version)},"surface":${goQuote(s.surface)},"subsurface":${goQuote(s.subsurface)}`
  if (s.batch_index !== undefined) j += `,"batch_index":${int(s.batch_index)}`
  j += `,"config_hash":${goQuote(s.config_hash)},"build_version":${goQuote(s.build_version)},"build_sha":${goQuote(s.build_sha)}`
  j += opt('agent', s.agent) + opt('session_id_original', s.session_id_original) + opt('profile', s.profile)
  j += opt('action_class', canonicalActionClass(s.action_class)) + opt('payload_ref', s.payload_ref) + opt('payload_sha256', s.payload_sha256)
  j += opt('payload_bytes', s.payload_bytes)
  j += `,"payload_complete":${goJson(s.payload_complete)},"transform_kind":${goQuote(s.transform_kind)}`
  j += opt('wire_payload_bytes', s.wire_payload_bytes)
  j += opt('wire_payload_sample', s.wire_payload_sample === undefined ? undefined : cutSample(s.wire_payload_sample))
  j += opt('scanner_bytes', s.scanner_bytes)
  j += opt('scanner_sample', s.scanner_sample === undefined ? undefined : cutSample(s.scanner_sample))
  const r = s.request
  j += `,"request":{"method":${goQuote(r.method)},"url":${goQuote(r.url)}`
  if (r.headers !== undefined && Object.keys(r.headers).length > 0) {
    const h: JsonObject = new Map()
    for (const k of Object.keys(r.headers).sort()) h.set(k, r.headers[k] as JsonValue)
    j += `,"headers":${goJson(h)}`
  }
  j += opt('body_sample', r.body_sample === undefined ? undefined : cutSample(r.body_sample))
  j += opt('tool_name', r.tool_name) + opt('tool_args_json', r.tool_args_json) + opt('mcp_method', r.mcp_method) + opt('mcp_server', r.mcp_server)
  j += `},"raw_findings":${findingsJson(s.raw_findings)},"effective_findings":${findingsJson(s.effective_findings)}`
  j += `,"effective_action":${goQuote(s.effective_action === '' ? 'allow' : s.effective_action)},"outcome":${goQuote(s.outcome)}`
  return j + opt('skip_reason', s.skip_reason) + '}'
}

// `put(…, omitEmpty = true)` of the tree: undefined, '' and 0 are left out.
function opt(k: string, v: string | number | undefined): string {
  if (v === undefined || v === '' || v === 0) return ''
  return `,"${k}":${typeof v === 'number' ? int(v) : goQuote(v)}`
}

// fromPlain's integer rule (a RangeError for anything but a safe integer).
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${n}`)
  return String(n)
}

function findingsJson(fs: CaptureFinding[] | null): string {
  return fs === null || fs.length === 0 ? 'null' : `[${fs.map((f) => goJson(finding(f))).join(',')}]`
}

/** What compile reads from a summary; everything else is only covered by the hash. */
export interface DecodedSummary {
  agent: string
  method: string
  url: string
  actionClass: string
  effectiveAction: string
  payloadBytes: number
  scannerBytes: number
  /** `request.tool_name`, `request.mcp_method`, `request.mcp_server` (MCP tool-call records, §15.6.1). */
  toolName: string
  mcpMethod: string
  mcpServer: string
}

/** A summary Go's typed decode would refuse (wrong type, wrong schema version). */
export class SummaryDecodeError extends Error {
  constructor(reason: string) {
    super(reason)
    this.name = 'SummaryDecodeError'
  }
}

const STRING_FIELDS = new Set([
  'surface', 'subsurface', 'config_hash', 'build_version', 'build_sha', 'agent', 'session_id_original', 'profile',
  'action_class', 'payload_ref', 'payload_sha256', 'transform_kind', 'wire_payload_sample', 'scanner_sample',
  'effective_action', 'outcome', 'skip_reason',
])
const INT_FIELDS = new Set(['capture_schema_version', 'batch_index', 'payload_bytes', 'wire_payload_bytes', 'scanner_bytes'])
const REQUEST_STRINGS = new Set(['method', 'url', 'body_sample', 'tool_name', 'tool_args_json', 'mcp_method', 'mcp_server'])

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

/**
 * Go-semantics decode of the fields compile needs (§4 step 5): keys case-insensitive, last
 * wins, ints must be integers, strings strings, `capture_schema_version` exactly 1.
 */
export function decodeSummary(detail: unknown): DecodedSummary {
  if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
    throw new SummaryDecodeError(`capture detail is ${kind(detail)}, not an object`)
  }
  const out = {agent: '', method: '', url: '', actionClass: '', effectiveAction: '', payloadBytes: 0, scannerBytes: 0, toolName: '', mcpMethod: '', mcpServer: ''}
  let version = 0
  const d = detail as Record<string, unknown>
  for (const k0 in d) {
    const v = d[k0]
    const k = k0.toLowerCase()
    if (v === null) continue
    if (STRING_FIELDS.has(k)) {
      if (typeof v !== 'string') throw new SummaryDecodeError(`${k}: expected string, got ${kind(v)}`)
      if (k === 'agent') out.agent = v
      else if (k === 'action_class') out.actionClass = v
      else if (k === 'effective_action') out.effectiveAction = v
    } else if (INT_FIELDS.has(k)) {
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new SummaryDecodeError(`${k}: expected integer, got ${kind(v)}`)
      if (k === 'capture_schema_version') version = v
      else if (k === 'payload_bytes') out.payloadBytes = v
      else if (k === 'scanner_bytes') out.scannerBytes = v
    } else if (k === 'payload_complete') {
      if (typeof v !== 'boolean') throw new SummaryDecodeError(`${k}: expected boolean, got ${kind(v)}`)
    } else if (k === 'raw_findings' || k === 'effective_findings') {
      if (!Array.isArray(v)) throw new SummaryDecodeError(`${k}: expected array, got ${kind(v)}`)
    } else if (k === 'request') {
      if (typeof v !== 'object' || Array.isArray(v)) throw new SummaryDecodeError(`request: expected object, got ${kind(v)}`)
      for (const [r0, rv] of Object.entries(v as Record<string, unknown>)) {
        const r = r0.toLowerCase()
        if (rv === null) continue
        if (REQUEST_STRINGS.has(r)) {
          if (typeof rv !== 'string') throw new SummaryDecodeError(`request.${r}: expected string, got ${kind(rv)}`)
          if (r === 'method') out.method = rv
          else if (r === 'url') out.url = rv
          else if (r === 'tool_name') out.toolName = rv
          else if (r === 'mcp_method') out.mcpMethod = rv
          else if (r === 'mcp_server') out.mcpServer = rv
        } else if (r === 'headers' && (typeof rv !== 'object' || Array.isArray(rv))) {
          throw new SummaryDecodeError(`request.headers: expected object, got ${kind(rv)}`)
        }
      }
    }
  }
  if (version !== 1) throw new SummaryDecodeError(`capture_schema_version: got ${version}, want 1`)
  return out
}
