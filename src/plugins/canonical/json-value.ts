/**
 * The generic JSON tree used by every canonical encoder. Objects are `Map`s so that key order
 * is exactly insertion order (plain objects move integer-like keys first). Numbers keep their
 * lexeme: Go compares and re-emits integer literals, and uint64 values exceed 2^53.
 */
export class JsonNumber {
  constructor(readonly text: string) {}

  /** True when the lexeme is a JSON integer: no fraction, no exponent. */
  isInteger(): boolean {
    return INTEGER_LEXEME.test(this.text)
  }

  toBigInt(): bigint {
    return BigInt(this.text)
  }
}

/** A piece of JSON kept as (compacted) text, emitted verbatim by the encoders. */
export class RawJson {
  constructor(readonly text: string) {}
}

export type JsonObject = Map<string, JsonValue>
export type JsonValue = null | boolean | string | JsonNumber | RawJson | JsonValue[] | JsonObject

export const INTEGER_LEXEME = /^-?(?:0|[1-9]\d*)$/

export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map
}

export function jsonTypeName(v: JsonValue | undefined): string {
  if (v === undefined) return 'missing'
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'boolean'
  if (typeof v === 'string') return 'string'
  if (v instanceof JsonNumber) return 'number'
  if (v instanceof RawJson) return 'raw'
  if (Array.isArray(v)) return 'array'
  return 'object'
}

/** Builds a tree from plain JS data (numbers must be safe integers; bigint allowed). */
export function fromPlain(value: unknown): JsonValue {
  if (value === null || value === undefined) return null
  if (typeof value === 'boolean' || typeof value === 'string') return value
  if (typeof value === 'bigint') return new JsonNumber(value.toString())
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError(`not a safe integer: ${value}`)
    return new JsonNumber(String(value))
  }
  if (value instanceof JsonNumber || value instanceof RawJson || value instanceof Map) return value as JsonValue
  if (Array.isArray(value)) return value.map(fromPlain)
  if (typeof value === 'object') {
    const m: JsonObject = new Map()
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) m.set(k, fromPlain(v))
    }
    return m
  }
  throw new TypeError(`cannot represent ${typeof value} as JSON`)
}

/** Converts a tree to plain JS data; integers become numbers when safe, else bigint. */
export function toPlain(value: JsonValue): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value
  if (value instanceof JsonNumber) {
    if (!value.isInteger()) return Number(value.text)
    const n = Number(value.text)
    return Number.isSafeInteger(n) ? n : BigInt(value.text)
  }
  if (value instanceof RawJson) return JSON.parse(value.text)
  if (Array.isArray(value)) return value.map(toPlain)
  const out: Record<string, unknown> = {}
  for (const [k, v] of value) out[k] = toPlain(v)
  return out
}
