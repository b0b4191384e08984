/**
 * String extraction with the reference's (Go) semantics, spec mcp.md §4.2 and §5.2: objects
 * walk their keys in byte-wise (UTF-8) order, numbers print like Go `FormatFloat(x,'f',-1,64)`.
 * [fix] The reference stops below depth 64, so a string nested deeper was forwarded unscanned;
 * here the walk reaches every level the frame parser accepts (deeper input is a parse error).
 */
import {compareUtf8, JsonNumber, RawJson, type JsonObject, type JsonValue} from '../../canonical/index.js'

/** Nesting the frame parser accepts; deeper input is a parse error (fail closed). */
export const MAX_JSON_DEPTH = 512
export const MAX_EXTRACT_DEPTH = MAX_JSON_DEPTH

/** Go `strconv.FormatFloat(x, 'f', -1, 64)` of a JSON number lexeme: shortest digits, never an exponent. */
export function goFormatFloat(lexeme: string): string {
  const x = Number(lexeme)
  if (Object.is(x, -0)) return '-0'
  const s = String(x)
  const e = s.indexOf('e')
  if (e < 0) return s
  // Expand JS exponent form (shortest round-trip digits) into plain decimal.
  const neg = s.startsWith('-')
  const mant = s.slice(neg ? 1 : 0, e)
  const exp = Number(s.slice(e + 1))
  const dot = mant.indexOf('.')
  const digits = mant.replace('.', '')
  const intLen = (dot < 0 ? mant.length : dot) + exp
  let out: string
  if (intLen <= 0) out = '0.' + '0'.repeat(-intLen) + digits
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length)
  else out = digits.slice(0, intLen) + '.' + digits.slice(intLen)
  return (neg ? '-' : '') + out
}

export function sortedKeys(o: JsonObject): string[] {
  return [...o.keys()].sort(compareUtf8)
}

/**
 * `allStrings(v)`: keys and values, numbers and booleans as text, `null` nothing (§4.2); a number
 * the Go form does not spell exactly is followed by its lexeme.
 */
export function allStrings(v: JsonValue | undefined): string[] {
  const out: string[] = []
  walk(v, 0, true, out)
  return out
}

/** `valueStrings(v)`: only string values, no keys, numbers or booleans (§4.2). */
export function valueStrings(v: JsonValue | undefined): string[] {
  const out: string[] = []
  walk(v, 0, false, out)
  return out
}

/**
 * The string values of `valueStrings`, in the order the message holds them (object members as
 * sent, not sorted): the order a sender chooses and a server reading the JSON as parsed sees.
 */
export function sentValueStrings(v: JsonValue | undefined): string[] {
  const out: string[] = []
  walk(v, 0, false, out, false)
  return out
}

function walk(v: JsonValue | undefined, depth: number, all: boolean, out: string[], sorted = true): void {
  if (v === undefined || v === null || depth > MAX_EXTRACT_DEPTH) return
  if (typeof v === 'string') {
    out.push(v)
    return
  }
  if (typeof v === 'boolean') {
    if (all) out.push(v ? 'true' : 'false')
    return
  }
  if (v instanceof JsonNumber) {
    if (!all) return
    const go = goFormatFloat(v.text)
    out.push(go)
    // [fix] The reference reads numbers as float64, so the digits past the 17th are lost
    // (4012888888881881235 → 4012888888881881000, a card number no pattern matches), while the
    // server reads the lexeme it is sent: that is scanned too.
    if (go !== v.text) out.push(v.text)
    return
  }
  if (v instanceof RawJson) return
  if (Array.isArray(v)) {
    for (const x of v) walk(x, depth + 1, all, out, sorted)
    return
  }
  for (const k of sorted ? sortedKeys(v) : v.keys()) {
    if (all) out.push(k)
    walk(v.get(k), depth + 1, all, out, sorted)
  }
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return v instanceof Map
}

/**
 * `extractText(v)` (§5.2): a non-empty `content` array of objects yields the `text` of every block
 * joined by one space — and stops there (base64 payloads never reach the injection scanner);
 * anything else yields its string values joined by `\n`.
 */
export function extractText(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return ''
  if (isObject(v)) {
    const content = v.get('content')
    if (Array.isArray(content) && content.length > 0 && content.every(isObject)) {
      return content.map((b) => {
        const t = (b as JsonObject).get('text')
        return typeof t === 'string' ? t : ''
      }).join(' ')
    }
  }
  return valueStrings(v).join('\n')
}

/** Fields of a content block that carry base64 payloads (never scanned as text). */
const PAYLOAD_FIELDS = new Set(['data', 'blob', 'raw'])

/**
 * [fix Q10] Everything in a value (a tool result, an error's `data`, a message's `params`) that
 * `extractText` skips when `content` is present: `structuredContent`, embedded resources, resource
 * links, annotations, `_meta` — every string value except content blocks' `text` (already
 * scanned) and base64 payload fields. '' when `extractText` read every string.
 */
export function remainderText(result: JsonValue | undefined): string {
  if (!isObject(result)) return ''
  const content = result.get('content')
  if (!(Array.isArray(content) && content.length > 0 && content.every(isObject))) return ''
  const out: string[] = []
  for (const k of sortedKeys(result)) {
    if (k === 'content') continue
    out.push(...valueStrings(result.get(k)))
  }
  for (const block of content as JsonObject[]) {
    for (const k of sortedKeys(block)) {
      if (k === 'text' || PAYLOAD_FIELDS.has(k)) continue
      const v = block.get(k)
      if (isObject(v)) {
        // Embedded resource: its text is scanned, its blob is not.
        for (const rk of sortedKeys(v)) if (!PAYLOAD_FIELDS.has(rk)) out.push(...valueStrings(v.get(rk)))
      } else {
        out.push(...valueStrings(v))
      }
    }
  }
  return out.filter((s) => s !== '').join('\n')
}

/** Replaces each `\uXXXX` escape by its code point; lone surrogates become U+FFFD (§4.2 step 5). */
export function unescapeU(raw: string): string {
  // Go replaces each escape by rune(n): a surrogate half on its own is not a valid rune.
  return raw.replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => {
    const n = parseInt(h, 16)
    return n >= 0xd800 && n <= 0xdfff ? '\ufffd' : String.fromCharCode(n)
  })
}
