import {isCanonicalTime} from './go-time.js'
import {JsonNumber, type JsonObject, type JsonValue} from './json-value.js'
import type {FieldSpec, StructSchema} from './struct.js'

// Reading JSON text that is already in its canonical form (bench: verify; the verifier reads every
// line of a million-line chain). A struct written by Go's json.Marshal, or by our own encoders,
// is compact, in field order, with omitempty applied: for such text the strict parse, the
// projection (`projectStruct`) and the re-serialisation (`goJson`) are each an identity, and
// reading it once is enough. The reader accepts only text for which that is provably so and
// declines (returns undefined, position unspecified) on anything else — whitespace, an escape,
// a character Go would escape, a key out of order or unknown, a zero value that omitempty would
// drop, a field projection would add, a number or time not in Go's spelling, a kind it does not
// handle — so the caller reads the text in full and reports what is wrong with it exactly as before.
//
// What an accepted struct guarantees (the differential tests check it against the full path):
//   value deep-equals projectStruct(schema, parseStrictJson(text[start, end)))
//   goJson(value) === text[start, end)

/** A schema field that projectStruct writes nothing for when it is absent. */
function omittable(f: FieldSpec): boolean {
  return f.oe === true && f.kind !== 'time' && !(f.kind === 'struct' && f.pointer !== true)
}

/** Longest canonical integer handled here: below 10^15 (exact in a double, inside int64/uint64). */
const MAX_DIGITS = 15

export class CanonicalReader {
  constructor(
    readonly text: string,
    public pos = 0,
  ) {}

  /** Consumes `token` when the text continues with it. */
  take(token: string): boolean {
    if (!this.text.startsWith(token, this.pos)) return false
    this.pos += token.length
    return true
  }

  /** True when the whole text has been read. */
  get done(): boolean {
    return this.pos === this.text.length
  }

  /**
   * A string literal without escapes or control characters: its value is its text, as the strict
   * parser reads it (any other character, non-ASCII included, stands for itself).
   */
  rawString(): string | undefined {
    return this.literal(false)
  }

  /**
   * A string literal that goQuote writes back as it is: printable ASCII without `"`, `\`, and
   * the HTML characters Go escapes (`<`, `>`, `&`).
   */
  goString(): string | undefined {
    return this.literal(true)
  }

  private literal(goSafe: boolean): string | undefined {
    const t = this.text
    if (t.charCodeAt(this.pos) !== 0x22) return undefined
    const start = this.pos + 1
    const n = t.length
    for (let i = start; i < n; i++) {
      const c = t.charCodeAt(i)
      if (c === 0x22) {
        this.pos = i + 1
        return t.slice(start, i)
      }
      if (c < 0x20 || c === 0x5c) return undefined
      if (goSafe && (c > 0x7e || c === 0x3c || c === 0x3e || c === 0x26)) return undefined
    }
    return undefined
  }

  /**
   * An unsigned integer in canonical spelling (`0` or no leading zero) of at most `maxDigits`
   * digits, as text. The caller checks what follows (a `.` or `e` there is not a delimiter).
   */
  uintText(maxDigits = Infinity): string | undefined {
    const t = this.text
    const start = this.pos
    let i = start
    const first = t.charCodeAt(i)
    if (first === 0x30) i++
    else if (first >= 0x31 && first <= 0x39) {
      i++
      for (;;) {
        const c = t.charCodeAt(i)
        if (c >= 0x30 && c <= 0x39) i++
        else break
      }
    } else return undefined
    if (i - start > maxDigits) return undefined
    this.pos = i
    return t.slice(start, i)
  }

  /**
   * A struct of `schema` in canonical form: what projectStruct makes of it is the parsed value
   * itself, and goJson writes its text back unchanged. Undefined otherwise.
   */
  struct(schema: StructSchema): JsonObject | undefined {
    const t = this.text
    if (t.charCodeAt(this.pos) !== 0x7b) return undefined
    this.pos++
    const fields = schema.fields
    const out: JsonObject = new Map()
    let fi = 0
    if (t.charCodeAt(this.pos) !== 0x7d) {
      for (;;) {
        if (t.charCodeAt(this.pos) !== 0x22) return undefined
        const keyStart = this.pos + 1
        const keyEnd = t.indexOf('"', keyStart)
        if (keyEnd < 0 || t.charCodeAt(keyEnd + 1) !== 0x3a) return undefined
        const keyLength = keyEnd - keyStart
        // The next field in declaration order with this name; every field skipped on the way
        // must be one projection leaves out when absent (otherwise it would add its zero value).
        let field: FieldSpec | undefined
        while (fi < fields.length) {
          const f = fields[fi++] as FieldSpec
          if (f.name.length === keyLength && t.startsWith(f.name, keyStart)) {
            field = f
            break
          }
          if (!omittable(f)) return undefined
        }
        if (field === undefined) return undefined
        this.pos = keyEnd + 2
        const value = this.field(field)
        if (value === undefined) return undefined
        out.set(field.name, value)
        const c = t.charCodeAt(this.pos)
        if (c === 0x2c) {
          this.pos++
          continue
        }
        if (c !== 0x7d) return undefined
        break
      }
    }
    this.pos++ // }
    for (; fi < fields.length; fi++) if (!omittable(fields[fi] as FieldSpec)) return undefined
    return out
  }

  private field(f: FieldSpec): JsonValue | undefined {
    switch (f.kind) {
      case 'string': {
        const s = this.goString()
        return s === undefined || (f.oe === true && s === '') ? undefined : s
      }
      case 'int':
      case 'uint64':
      case 'uint8': {
        // Negative, long or non-integer numbers take the full path (range checks, `-0`).
        const text = this.uintText(MAX_DIGITS)
        if (text === undefined || (f.oe === true && text === '0')) return undefined
        if (f.kind === 'uint8' && Number(text) > 255) return undefined
        return new JsonNumber(text)
      }
      case 'bool':
        if (this.take('true')) return true
        return f.oe !== true && this.take('false') ? false : undefined
      case 'time': {
        const s = this.goString()
        return s !== undefined && isCanonicalTime(s) ? s : undefined
      }
      case 'strings': {
        if (this.take('null')) return f.oe === true ? undefined : null
        if (!this.take('[')) return undefined
        const items: string[] = []
        if (this.take(']')) return f.oe === true ? undefined : items
        for (;;) {
          const s = this.goString()
          if (s === undefined) return undefined
          items.push(s)
          if (this.take(']')) return items
          if (!this.take(',')) return undefined
        }
      }
      case 'struct':
        // `null` is dropped (pointer) or zero-filled (value) by projection: not canonical text.
        return this.struct(f.schema as StructSchema)
      default:
        // maps (sorted keys), free-form values and struct arrays: the full path
        return undefined
    }
  }
}
