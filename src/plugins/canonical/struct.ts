import {compareUtf8} from './go-string.js'
import {canonicalTimeString, TimeFormatError} from './go-time.js'
import {INTEGER_LEXEME, JsonNumber, jsonTypeName, RawJson, type JsonObject, type JsonValue} from './json-value.js'

/**
 * Typed projection: what Go's `json.Marshal` emits for a value strictly decoded into a Go
 * struct (receipts.md §3.3–3.5, learn-lifecycle.md §1.3). Field order is declaration order;
 * absent non-omitempty fields take their zero value; omitempty fields vanish when zero.
 */
export type FieldKind =
  | 'string'
  | 'int' // int64
  | 'uint64'
  | 'uint8'
  | 'bool'
  | 'time' // time.Time, re-rendered RFC3339Nano
  | 'strings' // []string
  | 'map_int' // map[string]int64, keys sorted
  | 'map_string' // map[string]string, keys sorted
  | 'any' // free-form tree (map[string]any / json.RawMessage), kept as given
  | 'struct'
  | 'structs' // []Struct

export interface FieldSpec {
  readonly name: string
  readonly kind: FieldKind
  /** `omitempty`. For a pointer struct: omitted only when absent or null. */
  readonly oe?: boolean
  /** For `struct` / `structs`. */
  readonly schema?: StructSchema
  /** `struct` only: a Go pointer (`*T`): absent/null is omitted instead of zero-filled. */
  readonly pointer?: boolean
}

export interface StructSchema {
  readonly label: string
  readonly fields: readonly FieldSpec[]
  readonly names: ReadonlySet<string>
}

export function defineStruct(label: string, fields: readonly FieldSpec[]): StructSchema {
  return {label, fields, names: new Set(fields.map((f) => f.name))}
}

/** A value does not have the shape of its declared type. `path` names the field. */
export class ShapeError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message)
    this.name = 'ShapeError'
  }
}

export interface ProjectOptions {
  /** Message for unknown keys; default is the receipts form (`<label> carries unknown signed field(s): ['a']`). */
  unknownFields?: (label: string, names: string[], path: string) => string
  /**
   * Unsigned integers as Go's encoding/json reads them (strconv.ParseUint): a sign is a type
   * error, so `-0` is refused instead of read as 0. (Go's YAML decoder accepts `-0`.)
   */
  jsonUnsigned?: boolean
}

export function pythonList(names: readonly string[]): string {
  return '[' + names.map((n) => `'${n}'`).join(', ') + ']'
}

const defaultUnknown = (label: string, names: string[]): string =>
  `${label} carries unknown signed field(s): ${pythonList(names)}`

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n
const UINT8_MAX = 255n
const ZERO = new JsonNumber('0')
export const ZERO_TIME = '0001-01-01T00:00:00Z'

function typeError(path: string, want: string, got: JsonValue | undefined): never {
  throw new ShapeError(`${path}: expected ${want}, got ${jsonTypeName(got)}`, path)
}

function integer(v: JsonValue | undefined, path: string, min: bigint, max: bigint, want: string, noSign = false): JsonNumber {
  // Fast path (every chain_seq and version of a chain): one to fifteen digits without a leading
  // zero is canonical and inside int64 and uint64; only uint8 needs its range checked.
  if (v instanceof JsonNumber && isSmallCanonical(v.text) && (max !== UINT8_MAX || Number(v.text) <= 255)) return v
  if (!(v instanceof JsonNumber) || !INTEGER_LEXEME.test(v.text)) typeError(path, want, v)
  if (noSign && v.text.startsWith('-')) throw new ShapeError(`${path}: ${v.text} out of range for ${want}`, path)
  const n = BigInt(v.text)
  if (n < min || n > max) throw new ShapeError(`${path}: ${v.text} out of range for ${want}`, path)
  // Go re-emits the decoded integer: `-0` becomes `0`.
  const text = n.toString()
  return text === v.text ? v : new JsonNumber(text)
}

/** `0` or 1–15 digits without a leading zero (below 10^15: exact in a double, inside int64). */
function isSmallCanonical(text: string): boolean {
  const n = text.length
  if (n === 0 || n > 15) return false
  const first = text.charCodeAt(0)
  if (first === 0x30) return n === 1
  if (first < 0x31 || first > 0x39) return false
  for (let i = 1; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function isZeroNumber(n: JsonNumber): boolean {
  return n.text === '0'
}

function sortedMap(obj: JsonObject, each: (v: JsonValue, path: string) => JsonValue, path: string): JsonObject {
  const keys = [...obj.keys()].sort(compareUtf8)
  const out: JsonObject = new Map()
  for (const k of keys) out.set(k, each(obj.get(k) as JsonValue, `${path}.${k}`))
  return out
}

/** Projects `input` (an object, or undefined for "absent") into Go's marshalled field order. */
export function projectStruct(
  schema: StructSchema,
  input: JsonValue | undefined,
  path: string = schema.label,
  options: ProjectOptions = {},
): JsonObject {
  let obj: JsonObject
  if (input === undefined) obj = new Map()
  else if (input instanceof Map) obj = input
  else typeError(path, 'object', input)

  const unknown: string[] = []
  for (const k of obj.keys()) if (!schema.names.has(k)) unknown.push(k)
  if (unknown.length > 0) {
    unknown.sort()
    throw new ShapeError((options.unknownFields ?? defaultUnknown)(schema.label, unknown, path), path)
  }

  const out: JsonObject = new Map()
  for (const f of schema.fields) {
    const v = obj.get(f.name)
    // An absent omitempty field writes nothing (a time or a value struct still takes its zero
    // value): skipped before building its path, since most of a receipt's 60 fields are absent.
    if (v === undefined && f.oe === true && f.kind !== 'time' && !(f.kind === 'struct' && f.pointer !== true)) continue
    const p = `${path}.${f.name}`
    switch (f.kind) {
      case 'string': {
        if (v === undefined) {
          if (!f.oe) out.set(f.name, '')
        } else if (typeof v !== 'string') typeError(p, 'string', v)
        else if (!(f.oe && v === '')) out.set(f.name, v)
        break
      }
      case 'int':
      case 'uint64':
      case 'uint8': {
        if (v === undefined) {
          if (!f.oe) out.set(f.name, ZERO)
          break
        }
        const n =
          f.kind === 'int'
            ? integer(v, p, INT64_MIN, INT64_MAX, 'int64')
            : f.kind === 'uint64'
              ? integer(v, p, 0n, UINT64_MAX, 'uint64', options.jsonUnsigned)
              : integer(v, p, 0n, UINT8_MAX, 'uint8', options.jsonUnsigned)
        if (!(f.oe && isZeroNumber(n))) out.set(f.name, n)
        break
      }
      case 'bool': {
        if (v === undefined) {
          if (!f.oe) out.set(f.name, false)
        } else if (typeof v !== 'boolean') typeError(p, 'boolean', v)
        else if (!(f.oe && v === false)) out.set(f.name, v)
        break
      }
      case 'time': {
        if (v === undefined) {
          out.set(f.name, ZERO_TIME) // time.Time is a struct: omitempty never drops it
          break
        }
        if (typeof v !== 'string') typeError(p, 'RFC 3339 time string', v)
        try {
          out.set(f.name, canonicalTimeString(v))
        } catch (e) {
          if (e instanceof TimeFormatError) throw new ShapeError(`${p}: ${e.message}`, p)
          throw e
        }
        break
      }
      case 'strings': {
        if (v === undefined || v === null) {
          if (!f.oe) out.set(f.name, null)
          break
        }
        if (!Array.isArray(v)) typeError(p, 'array of strings', v)
        v.forEach((item, i) => {
          if (typeof item !== 'string') typeError(`${p}[${i}]`, 'string', item)
        })
        if (!(f.oe && v.length === 0)) out.set(f.name, v)
        break
      }
      case 'map_int':
      case 'map_string': {
        if (v === undefined || v === null) {
          if (!f.oe) out.set(f.name, null)
          break
        }
        if (!(v instanceof Map)) typeError(p, 'object', v)
        if (f.oe && v.size === 0) break
        out.set(
          f.name,
          sortedMap(
            v,
            f.kind === 'map_int'
              ? (x, q) => integer(x, q, INT64_MIN, INT64_MAX, 'int64')
              : (x, q) => (typeof x === 'string' ? x : typeError(q, 'string', x)),
            p,
          ),
        )
        break
      }
      case 'any': {
        if (v === undefined) {
          if (!f.oe) out.set(f.name, null)
        } else if (!(f.oe && isEmptyAny(v))) out.set(f.name, v)
        break
      }
      case 'struct': {
        const schemaOf = f.schema as StructSchema
        if (f.pointer) {
          if (v === undefined || v === null) break
          out.set(f.name, projectStruct(schemaOf, v, p, options))
        } else {
          out.set(f.name, projectStruct(schemaOf, v === null ? undefined : v, p, options))
        }
        break
      }
      case 'structs': {
        if (v === undefined || v === null) {
          if (!f.oe) out.set(f.name, null)
          break
        }
        if (!Array.isArray(v)) typeError(p, 'array', v)
        if (f.oe && v.length === 0) break
        out.set(
          f.name,
          v.map((item, i) => projectStruct(f.schema as StructSchema, item, `${p}[${i}]`, options)),
        )
        break
      }
    }
  }
  return out
}

function isEmptyAny(v: JsonValue): boolean {
  if (v === null || v === false || v === '') return true
  if (v instanceof JsonNumber) return /^-?0$/.test(v.text)
  if (v instanceof RawJson) return false
  if (Array.isArray(v)) return v.length === 0
  if (v instanceof Map) return v.size === 0
  return false
}
