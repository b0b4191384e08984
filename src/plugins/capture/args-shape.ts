import {goJson, JsonNumber, type JsonObject, type JsonValue} from '../canonical/index.js'
import {saltedHmac} from './privacy.js'

// [ext, mcp.md §15.6.1] The `tool_args_json` of an MCP tool-call capture record: the arguments'
// shape, never a secret in clear. The same privacy rules as HTTP capture (learn-compile §16):
// object keys are `public` (like a path, they are what a contract is made of) and kept; string and
// number values are `internal` (like a query string): HMAC'd with the salt, or replaced by their
// type when no salt is set; with `--capture-raw` written as sent. Booleans and null carry one bit
// and are kept. Whatever a DLP pattern recognises — in a key or a value, raw mode included — turns
// the whole argument object into `[REDACTED]`. Keys are sorted (canonical JSON, GoJSON escaping).

export const REDACTED_ARGS = '[REDACTED]'

export interface ArgsShapeOptions {
  /** Write values as sent (`--capture-raw`); DLP hits are still redacted. */
  readonly raw: boolean
  /** `learn.privacy.salt_source` resolved; undefined = internal values replaced by their type. */
  readonly salt: string | undefined
  /** True when a DLP pattern matches the text. */
  readonly dlpHit: (text: string) => boolean
}

class SecretFound extends Error {}

function leaf(v: string | JsonNumber, o: ArgsShapeOptions): JsonValue {
  const text = typeof v === 'string' ? v : v.toString()
  if (o.dlpHit(text)) throw new SecretFound()
  if (o.raw) return v
  if (o.salt !== undefined) return `hmac-sha256:${saltedHmac(o.salt, text)}`
  return typeof v === 'string' ? '<string>' : '<number>'
}

function shape(v: JsonValue | undefined, o: ArgsShapeOptions): JsonValue {
  if (v === undefined || v === null || typeof v === 'boolean') return v ?? null
  if (typeof v === 'string' || v instanceof JsonNumber) return leaf(v, o)
  if (Array.isArray(v)) return v.map((x) => shape(x, o))
  if (v instanceof Map) {
    const out: JsonObject = new Map()
    for (const k of [...v.keys()].sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))))) {
      if (o.dlpHit(k)) throw new SecretFound()
      out.set(k, shape(v.get(k), o))
    }
    return out
  }
  return leaf(String(v), o)
}

/** The capture form of a tool call's arguments; `{}` when absent (as the evaluator sees them). */
export function argsShape(args: JsonValue | undefined, o: ArgsShapeOptions): string {
  try {
    return goJson(shape(args ?? new Map(), o))
  } catch (e) {
    if (e instanceof SecretFound) return REDACTED_ARGS
    throw e
  }
}
