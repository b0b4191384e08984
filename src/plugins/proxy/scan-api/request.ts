/**
 * Scan API request decoding and per-kind input validation (scanners-extra §1.5.1, §1.5.2):
 * unknown members at any level and members of the wrong JSON type are refused, anything after
 * the JSON object is refused, and field limits count UTF-8 bytes.
 */
import type {ScanApiSettings} from '../../config/index.js'

export const SCAN_KINDS = ['url', 'dlp', 'prompt_injection', 'tool_call'] as const
export type ScanKind = (typeof SCAN_KINDS)[number]

export interface ScanInput {
  readonly url?: string
  readonly text?: string
  readonly content?: string
  readonly tool_name?: string
  /** The raw `arguments` value (any JSON), as parsed; `undefined` when absent. */
  readonly arguments?: unknown
  /** Its compact serialisation, whose byte length the `arguments` field limit counts. */
  readonly argumentsJson?: string
}

export interface ScanRequest {
  readonly kind: string
  readonly input: ScanInput
  readonly requestId?: string
  readonly includeEvidence: boolean
}

export class RequestError extends Error {}

const SHAPE: Readonly<Record<string, Readonly<Record<string, 'string' | 'boolean' | 'any' | 'object'>>>> = {
  '': {kind: 'string', input: 'object', context: 'object', options: 'object'},
  input: {url: 'string', text: 'string', content: 'string', tool_name: 'string', arguments: 'any'},
  context: {request_id: 'string', session_id: 'string', agent_name: 'string'},
  options: {include_evidence: 'boolean'},
}

function typeName(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/** Checks one object level against SHAPE; JSON `null` members are as if absent (Go's decoder). */
function checkObject(v: unknown, level: string, field: string): Record<string, unknown> {
  if (v === null || v === undefined) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new RequestError(`json: cannot unmarshal ${typeName(v)} into field ${field} of type object`)
  const shape = SHAPE[level]!
  const o = v as Record<string, unknown>
  for (const [k, val] of Object.entries(o)) {
    const want = shape[k]
    if (want === undefined) throw new RequestError(`json: unknown field ${JSON.stringify(k)}`)
    if (want === 'any' || val === null) continue
    const got = want === 'object' ? (typeof val === 'object' && !Array.isArray(val) ? 'object' : typeName(val)) : typeof val
    if (got !== want) throw new RequestError(`json: cannot unmarshal ${typeName(val)} into field ${level === '' ? '' : level + '.'}${k} of type ${want === 'boolean' ? 'bool' : want}`)
  }
  return o
}

/** Steps 8–9: the body as a scan request, or a RequestError whose message follows `Invalid request: `. */
export function decodeScanRequest(text: string): ScanRequest {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (err) {
    const m = (err as Error).message
    if (/after JSON/.test(m)) throw new RequestError('trailing data after JSON object')
    throw new RequestError(m)
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new RequestError(`json: cannot unmarshal ${typeName(v)} into Go value of type scanapi.Request`)
  const top = checkObject(v, '', 'request')
  const input = checkObject(top.input, 'input', 'input')
  const context = checkObject(top.context, 'context', 'context')
  const options = checkObject(top.options, 'options', 'options')
  const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined)
  const args = input.arguments
  return {
    kind: str(top.kind) ?? '',
    input: {
      ...(str(input.url) !== undefined ? {url: str(input.url)} : {}),
      ...(str(input.text) !== undefined ? {text: str(input.text)} : {}),
      ...(str(input.content) !== undefined ? {content: str(input.content)} : {}),
      ...(str(input.tool_name) !== undefined ? {tool_name: str(input.tool_name)} : {}),
      ...('arguments' in input ? {arguments: args, argumentsJson: JSON.stringify(args)} : {}),
    },
    ...(str(context.request_id) !== undefined && context.request_id !== '' ? {requestId: str(context.request_id)} : {}),
    includeEvidence: options.include_evidence === true,
  }
}

function bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** A URL the scan API accepts: http(s) with a host (the scheme compared case-insensitively). */
function validHttpUrl(raw: string): boolean {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(raw)
  if (m === null) return false
  const scheme = m[1]!.toLowerCase()
  if (scheme !== 'http' && scheme !== 'https') return false
  const host = m[2]!.replace(/^[^@]*@/, '').replace(/:\d*$/, '')
  if (host === '' || host === '[]') return false
  try {
    new URL(raw)
  } catch {
    return false
  }
  return true
}

/** Step 12 (§1.5.2): the message of the first problem, or null. */
export function inputProblem(kind: ScanKind, input: ScanInput, limits: ScanApiSettings['fieldLimits']): string | null {
  switch (kind) {
    case 'url': {
      const u = input.url ?? ''
      if (u === '') return 'input.url is required for kind "url"'
      if (bytes(u) > limits.url) return 'input.url exceeds field limit'
      if (!validHttpUrl(u)) return 'input.url must be a valid http:// or https:// URL with a host'
      return null
    }
    case 'dlp': {
      const t = input.text ?? ''
      if (t === '') return 'input.text is required for kind "dlp"'
      if (bytes(t) > limits.text) return 'input.text exceeds field limit'
      return null
    }
    case 'prompt_injection': {
      const c = input.content ?? ''
      if (c === '') return 'input.content is required for kind "prompt_injection"'
      if (bytes(c) > limits.content) return 'input.content exceeds field limit'
      return null
    }
    case 'tool_call': {
      if ((input.tool_name ?? '') === '') return 'input.tool_name is required for kind "tool_call"'
      if (input.argumentsJson !== undefined && bytes(input.argumentsJson) > limits.arguments) return 'input.arguments exceeds field limit'
      return null
    }
  }
}
