/**
 * One structural parse per JSON-RPC message (spec mcp.md §1.1). Duplicate keys at any depth and
 * case-folded duplicates in the envelope or `params` are parse errors (fail closed, fix Q12: a Go
 * upstream would read `Params` where a JS scanner read `params`).
 */
import {compactRawJson, goFoldKey, JsonSyntaxError, parseStrictJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {MAX_JSON_DEPTH} from './extract.js'

export interface McpFrame {
  /** The message text after trimming, on one line (what is forwarded when nothing rewrites it). */
  readonly text: string
  readonly isBatch: boolean
  /**
   * How many lines the trimmed message came on: 1, unless it held line feeds (a pretty-printed
   * HTTP body, or a stdio message the wrap joined from several lines; the `framing` stages).
   */
  readonly lines: number
  /** Parsed value; undefined when `error` is set and the text did not parse at all. */
  readonly value: JsonValue | undefined
  /** Parse / structure error; null for a well-formed frame. */
  readonly error: string | null
  /** Raw JSON text of `id`, compacted; null when absent or `null` (a notification). */
  readonly id: string | null
  /** `method` when it is a string, else ''. */
  readonly method: string
  readonly hasMethod: boolean
  /** Has `result` or `error` (a response, even when `method` is present too). */
  readonly isResponse: boolean
  /** `params.name` of a `tools/call` ('' otherwise). */
  readonly toolName: string
  /** `params.arguments` of a `tools/call`; undefined when absent or null. */
  readonly args: JsonValue | undefined
}

/** Go `unicode.IsSpace` (used by `bytes.TrimSpace`). */
function isGoSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0x85 || c === 0xa0 || c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
}

/** `bytes.TrimSpace`: ASCII and Unicode white space at both ends (so `\r` goes). */
export function trimGoSpace(s: string): string {
  let a = 0
  let b = s.length
  while (a < b && isGoSpace(s.charCodeAt(a))) a++
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}


export function isObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map
}

/**
 * Two keys equal under simple case folding → the later one, else null. Go's folding, not only
 * ASCII case: `paramſ` (U+017F) or `argumentſ` is the `params` / `arguments` field to a Go
 * decoder, so beside the real one it would hand the upstream a tool call nobody judged.
 */
function caseFoldDuplicate(o: JsonObject): string | null {
  const seen = new Map<string, string>()
  for (const k of o.keys()) {
    const f = goFoldKey(k)
    const prev = seen.get(f)
    if (prev !== undefined) return `duplicate object key ${JSON.stringify(k)} (case-insensitive match of ${JSON.stringify(prev)})`
    seen.set(f, k)
  }
  return null
}

function emptyFrame(text: string, lines: number, isBatch: boolean, error: string | null, value?: JsonValue): McpFrame {
  return {text, isBatch, lines, value, error, id: null, method: '', hasMethod: false, isResponse: false, toolName: '', args: undefined}
}

/** How many lines `text` spans: 1 for a message on one line. */
function lineCount(text: string): number {
  let n = 1
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
  return n
}

export function parseFrame(raw: string): McpFrame {
  let text = trimGoSpace(raw)
  const lines = lineCount(text)
  const isBatch = text.startsWith('[')
  let value: JsonValue
  let spans: Map<string, [number, number]> | undefined
  try {
    const r = parseStrictJson(text, {maxDepth: MAX_JSON_DEPTH, topLevelSpans: true})
    value = r.value
    spans = r.spans
  } catch (err) {
    if (err instanceof JsonSyntaxError) {
      const dup = /^duplicate key (.*)$/.exec(err.reason)
      return emptyFrame(text, lines, isBatch, dup ? `duplicate object key ${dup[1]}` : `invalid JSON: ${err.message}`)
    }
    return emptyFrame(text, lines, isBatch, `invalid JSON: ${(err as Error).message}`)
  }
  // A parsed message is relayed as one line: a CR or LF in it can only be white space between
  // tokens (JSON strings cannot hold them raw), and a stdio client splits lines there — a server
  // (WebSocket frame, HTTP body) could put a whole unscanned message on a line of its own inside
  // a member no scan reads. One space each keeps every offset (the id span below) as it was.
  if (/[\r\n]/.test(text)) text = text.replace(/[\r\n]/g, ' ')
  if (isBatch) return emptyFrame(text, lines, true, null, value)
  if (!isObject(value)) return emptyFrame(text, lines, false, 'invalid JSON structure', value)
  const idSpan = spans?.get('id')
  const idRaw = idSpan === undefined ? null : compactRawJson(text.slice(idSpan[0], idSpan[1]))
  const id = idRaw === 'null' ? null : idRaw
  const methodV = value.get('method')
  const hasMethod = value.has('method')
  const method = typeof methodV === 'string' ? methodV : ''
  const isResponse = value.has('result') || value.has('error')
  const base = {text, isBatch: false, lines, value, id, method, hasMethod, isResponse, toolName: '', args: undefined as JsonValue | undefined}
  const fold = caseFoldDuplicate(value) ?? (isObject(value.get('params')) ? caseFoldDuplicate(value.get('params') as JsonObject) : null)
  if (fold !== null) return {...base, error: fold}
  if (hasMethod && typeof methodV !== 'string') return {...base, error: 'mcp: method must be a string'}
  if (method === 'tools/call') {
    const params = value.get('params')
    if (isObject(params)) {
      const name = params.get('name')
      const args = params.get('arguments')
      return {...base, error: null, toolName: typeof name === 'string' ? name : '', args: args === null ? undefined : args}
    }
  }
  return {...base, error: null}
}

/**
 * [ext] The `id` of a request the strict parse refused for a duplicate key (issue 37: the client
 * waited for an answer that never came). Lenient and top-level only: the text must be valid JSON
 * (JSON.parse) and its envelope must name `id`. Named once with a string or number: that id. Named
 * more than once: the text `null`, so the request is answered with `"id":null` (JSON-RPC 2.0 §5:
 * an id that cannot be determined). No `id` member (a notification), or not JSON: null.
 */
export function recoverRequestId(text: string): string | null {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return null
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null
  let depth = 0
  let found: string | null = null
  let count = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      let j = i + 1
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1
      const token = text.slice(i, j + 1)
      let k = j + 1
      while (k < text.length && /\s/.test(text[k]!)) k++
      if (depth === 1 && text[k] === ':' && (JSON.parse(token) as string) === 'id') {
        count++
        let v = k + 1
        while (v < text.length && /\s/.test(text[v]!)) v++
        let e = v
        if (text[v] === '"') {
          e = v + 1
          while (e < text.length && text.charCodeAt(e) !== 0x22) e += text.charCodeAt(e) === 0x5c ? 2 : 1
          e++
        } else {
          while (e < text.length && /[-+.\deE]/.test(text[e]!)) e++
        }
        found = e > v ? text.slice(v, e) : null
      }
      i = j
    } else if (c === 0x7b || c === 0x5b) depth++
    else if (c === 0x7d || c === 0x5d) depth--
  }
  if (count > 1) return 'null'
  return count === 1 && found !== null ? compactRawJson(found) : null
}
