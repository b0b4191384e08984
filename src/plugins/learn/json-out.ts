import {compareUtf8, JsonNumber, RawJson, parseJson, type JsonObject, type JsonValue} from '../canonical/index.js'

/** A copy of the tree with every object's keys in Go byte order (Go marshals maps sorted). */
export function sortedTree(v: JsonValue): JsonValue {
  if (v instanceof RawJson) return sortedTree(parseJson(v.text))
  if (Array.isArray(v)) return v.map(sortedTree)
  if (v instanceof Map) {
    const out: JsonObject = new Map()
    for (const k of [...v.keys()].sort(compareUtf8)) out.set(k, sortedTree(v.get(k) as JsonValue))
    return out
  }
  return v
}

// Go's encoder with SetEscapeHTML(false) still escapes U+2028/U+2029.
function quote(s: string): string {
  return JSON.stringify(s.isWellFormed() ? s : s.toWellFormed()).replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'))
}

/**
 * Go `json.Encoder` with `SetEscapeHTML(false)` and `SetIndent("", "  ")` (learn-compile §12.1):
 * the compile manifest layout. No trailing newline (the caller adds it).
 */
export function jsonIndentNoHtml(v: JsonValue, depth = 0): string {
  if (v === null) return 'null'
  if (v === true) return 'true'
  if (v === false) return 'false'
  if (typeof v === 'string') return quote(v)
  if (v instanceof JsonNumber) return v.text
  if (v instanceof RawJson) return jsonIndentNoHtml(parseJson(v.text), depth)
  const pad = '  '.repeat(depth + 1)
  const close = '  '.repeat(depth)
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]'
    return '[\n' + v.map((x) => pad + jsonIndentNoHtml(x, depth + 1)).join(',\n') + '\n' + close + ']'
  }
  if (v.size === 0) return '{}'
  const parts: string[] = []
  for (const [k, x] of v) parts.push(pad + quote(k) + ': ' + jsonIndentNoHtml(x, depth + 1))
  return '{\n' + parts.join(',\n') + '\n' + close + '}'
}
