import {
  compareUtf8,
  INTEGER_LEXEME,
  JsonNumber,
  JsonSyntaxError,
  parseGoTime,
  parseJson,
  RawJson,
  toEpochNanos,
  type JsonObject,
  type JsonValue,
} from '../../canonical/index.js'
import {goQ, invalidEnum, missingField} from './messages.js'
import type {PayloadField, PayloadSchema} from './payload-schemas.js'

// Strict typed decoding and validation of v2 payloads (receipts.md §9.3, §9.5 step 6).
// Decoding mirrors Go's json.Decoder with DisallowUnknownFields: unknown keys and wrong JSON
// types are errors (the first one in document order wins), `null` leaves the zero value.
// Exact key names only: Go's case-insensitive field matching is refused (learn-lifecycle §1.3).

/**
 * `verify`: what a verifier applies (only the RFC 3339 check inside shadow_delta.aggregation,
 * so the golden shadow_delta vector is valid — receipts.md §9.3, §14).
 * `produce`: every rule of Go's `Validate`, for receipts we emit ourselves.
 */
export type PayloadMode = 'verify' | 'produce'

export type DecodedValue = string | readonly string[] | null | ReadonlyMap<string, string> | bigint | DecodedPayload
export type DecodedPayload = ReadonlyMap<string, DecodedValue>

export type PayloadDecodeResult =
  | {readonly ok: true; readonly value: DecodedPayload}
  | {readonly ok: false; readonly empty: boolean; readonly error: string}

const UINT64_MAX = 2n ** 64n - 1n

function jsonKind(v: JsonValue): string {
  if (v === null) return 'null'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'string') return 'string'
  if (v instanceof JsonNumber) return 'number'
  if (Array.isArray(v)) return 'array'
  return 'object'
}

const goTypeOf = (f: PayloadField): string =>
  f.type === 'strings' ? '[]string' : f.type === 'map_string' ? 'map[string]string' : f.type === 'struct' ? (f.goType as string) : f.type

class DecodeFailure extends Error {}

function zeroOf(f: PayloadField): DecodedValue {
  switch (f.type) {
    case 'string':
      return ''
    case 'uint64':
      return 0n
    default:
      return null // nil slice / nil map / absent struct
  }
}

function decodeStruct(fields: readonly PayloadField[], obj: JsonObject, goType: string, prefix: string): DecodedPayload {
  const out = new Map<string, DecodedValue>()
  for (const f of fields) out.set(f.name, zeroOf(f))
  for (const [key, v] of obj) {
    const f = fields.find((x) => x.name === key)
    if (f === undefined) throw new DecodeFailure(`json: unknown field ${goQ(key)}`)
    const where = `${goType}.${prefix}${f.name}`
    const typeError = (value: string, type = goTypeOf(f)): DecodeFailure =>
      new DecodeFailure(`json: cannot unmarshal ${value} into Go struct field ${where} of type ${type}`)
    const str = (item: JsonValue): string => {
      if (item === null) return ''
      if (typeof item !== 'string') throw typeError(jsonKind(item), 'string')
      return item
    }
    if (v === null) continue // Go: null into a value is a no-op
    switch (f.type) {
      case 'string':
        if (typeof v !== 'string') throw typeError(jsonKind(v))
        out.set(f.name, v)
        break
      case 'uint64': {
        if (!(v instanceof JsonNumber)) throw typeError(jsonKind(v))
        // strconv.ParseUint: no sign, no fraction, no exponent, ≤ 2^64-1.
        if (!INTEGER_LEXEME.test(v.text) || v.text.startsWith('-') || BigInt(v.text) > UINT64_MAX) {
          throw typeError(`number ${v.text}`)
        }
        out.set(f.name, BigInt(v.text))
        break
      }
      case 'strings':
        if (!Array.isArray(v)) throw typeError(jsonKind(v))
        out.set(f.name, v.map(str))
        break
      case 'map_string': {
        if (!(v instanceof Map)) throw typeError(jsonKind(v))
        const m = new Map<string, string>()
        for (const [k, item] of v) m.set(k, str(item))
        out.set(f.name, m)
        break
      }
      case 'struct':
        if (!(v instanceof Map)) throw typeError(jsonKind(v))
        out.set(f.name, decodeStruct(f.fields as readonly PayloadField[], v, goType, `${prefix}${f.name}.`))
        break
    }
  }
  return out
}

/** Strictly decodes a payload (tree, raw JSON, or absent) into the kind's typed shape. */
export function decodePayload(schema: PayloadSchema, payload: JsonValue | string | undefined): PayloadDecodeResult {
  let tree: JsonValue | undefined
  try {
    if (typeof payload === 'string') {
      const trimmed = payload.trim()
      tree = trimmed === '' ? undefined : parseJson(trimmed)
    } else if (payload instanceof RawJson) {
      tree = parseJson(payload.text)
    } else {
      tree = payload
    }
  } catch (e) {
    if (e instanceof JsonSyntaxError) return {ok: false, empty: false, error: e.reason}
    throw e
  }
  if (tree === undefined || tree === null) return {ok: false, empty: true, error: 'empty or null payload'}
  if (!(tree instanceof Map)) {
    return {ok: false, empty: false, error: `json: cannot unmarshal ${jsonKind(tree)} into Go value of type contract.${schema.goType}`}
  }
  try {
    return {ok: true, value: decodeStruct(schema.fields, tree, schema.goType, '')}
  } catch (e) {
    if (e instanceof DecodeFailure) return {ok: false, empty: false, error: e.message}
    throw e
  }
}

function isEmpty(f: PayloadField, v: DecodedValue): boolean {
  if (v === null || v === '') return true
  if (f.type === 'strings') return (v as readonly string[]).length === 0
  if (f.type === 'map_string') return (v as ReadonlyMap<string, string>).size === 0
  return false
}

function enumText(f: PayloadField, v: string): string {
  const allowed = (f.oneOf as readonly string[]).map((x) => goQ(x)).join(' or ')
  return invalidEnum(`${f.name}=${goQ(v)} (must be ${allowed})`)
}

function timeNanos(s: string): bigint | undefined {
  try {
    return toEpochNanos(parseGoTime(s))
  } catch {
    return undefined
  }
}

function checkAggregation(agg: DecodedPayload, mode: PayloadMode): string | undefined {
  const start = agg.get('window_start') as string
  const end = agg.get('window_end') as string
  if (start === '') return missingField('aggregation.window_start')
  const startNs = timeNanos(start)
  if (startNs === undefined) return invalidEnum('aggregation.window_start')
  if (end === '') return missingField('aggregation.window_end')
  const endNs = timeNanos(end)
  if (endNs === undefined) return invalidEnum('aggregation.window_end')
  if (mode === 'verify') return undefined
  // Go Validate only (May 2026); pyverify applies none of these — see receipts.md §14.
  const lossless = agg.get('lossless_count') as bigint
  const delta = agg.get('delta_sample_count') as bigint
  const exemplars = (agg.get('exemplar_ids') ?? []) as readonly string[]
  if (endNs <= startNs) return invalidEnum('aggregation.window_end')
  if (lossless === 0n) return invalidEnum('aggregation.lossless_count')
  if (delta !== BigInt(exemplars.length)) return invalidEnum('aggregation.delta_sample_count')
  if (delta > lossless) return invalidEnum('aggregation.delta_sample_count')
  if (exemplars.some((id) => id === '')) return invalidEnum('aggregation.exemplar_ids')
  return undefined
}

/** The Validate rules of one decoded payload, in field order; undefined when it passes. */
export function checkDecodedPayload(schema: PayloadSchema, value: DecodedPayload, mode: PayloadMode): string | undefined {
  for (const f of schema.fields) {
    const v = value.get(f.name) as DecodedValue
    if (f.req && isEmpty(f, v)) return missingField(f.name)
    if (f.oneOf !== undefined && !f.oneOf.includes(v as string)) return enumText(f, v as string)
    // `rejected` outcomes must say why (promote/rollback committed).
    if (f.name === 'reject_reason' && (value.get('validation_outcome') === 'rejected' || value.get('outcome') === 'rejected') && v === '') {
      return missingField('reject_reason')
    }
    if (f.type === 'struct' && f.name === 'aggregation') {
      const err = checkAggregation(v as DecodedPayload, mode)
      if (err !== undefined) return err
    }
  }
  return undefined
}

/**
 * Step 6 of §9.5: decode strictly, then validate. Returns the Go error text, or undefined.
 * Decode failures name the kind's first required field, as Go's validator does.
 */
export function checkPayload(schema: PayloadSchema, payload: JsonValue | string | undefined, mode: PayloadMode): string | undefined {
  const decoded = decodePayload(schema, payload)
  if (!decoded.ok) {
    const detail = decoded.empty ? decoded.error : `strict decode: ${decoded.error}`
    return `${missingField(schema.firstRequired)} (unmarshal: ${detail})`
  }
  return checkDecodedPayload(schema, decoded.value, mode)
}

/** What Go's json.Marshal emits for the decoded payload struct: declaration order, omitempty, sorted maps. */
export function projectPayload(fields: readonly PayloadField[], value: DecodedPayload): JsonObject {
  const out: JsonObject = new Map()
  for (const f of fields) {
    const v = value.has(f.name) ? (value.get(f.name) as DecodedValue) : zeroOf(f)
    switch (f.type) {
      case 'string':
        if (!(f.oe && v === '')) out.set(f.name, v as string)
        break
      case 'uint64':
        if (!(f.oe && v === 0n)) out.set(f.name, new JsonNumber((v as bigint).toString()))
        break
      case 'strings':
        if (v === null) {
          if (!f.oe) out.set(f.name, null)
        } else if (!(f.oe && (v as readonly string[]).length === 0)) out.set(f.name, [...(v as readonly string[])])
        break
      case 'map_string': {
        if (v === null) {
          if (!f.oe) out.set(f.name, null)
          break
        }
        const m = v as ReadonlyMap<string, string>
        if (f.oe && m.size === 0) break
        const sorted: JsonObject = new Map()
        for (const k of [...m.keys()].sort(compareUtf8)) sorted.set(k, m.get(k) as string)
        out.set(f.name, sorted)
        break
      }
      case 'struct': {
        const inner = f.fields as readonly PayloadField[]
        out.set(f.name, projectPayload(inner, v === null ? new Map() : (v as DecodedPayload)))
        break
      }
    }
  }
  return out
}
