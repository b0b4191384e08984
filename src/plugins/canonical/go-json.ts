import {goQuote} from './go-string.js'
import {JsonNumber, RawJson, type JsonValue} from './json-value.js'

/**
 * Compact Go `json.Marshal` bytes of a tree whose objects are already in the order Go would
 * emit them (struct declaration order, or sorted map keys — see `projectStruct`). Numbers are
 * emitted as their lexeme, RawJson verbatim.
 */
export function goJson(value: JsonValue): string {
  if (value === null) return 'null'
  if (value === true) return 'true'
  if (value === false) return 'false'
  if (typeof value === 'string') return goQuote(value)
  if (value instanceof JsonNumber) return value.text
  if (value instanceof RawJson) return value.text
  if (Array.isArray(value)) {
    let s = '['
    for (let i = 0; i < value.length; i++) {
      if (i > 0) s += ','
      s += goJson(value[i] as JsonValue)
    }
    return s + ']'
  }
  let s = '{'
  let first = true
  for (const [k, v] of value) {
    if (!first) s += ','
    first = false
    s += goQuote(k) + ':' + goJson(v)
  }
  return s + '}'
}

/**
 * Go `json.MarshalIndent(v, prefix, indent)`: the first line carries no prefix, every later
 * line starts with `prefix`; `"key": value`; empty containers stay `{}` / `[]`.
 */
export function goJsonIndent(value: JsonValue, prefix: string, indent: string): string {
  return indentValue(value, prefix, indent, 0)
}

function indentValue(value: JsonValue, prefix: string, indent: string, depth: number): string {
  if (value instanceof RawJson) return indentRaw(value.text, prefix, indent, depth)
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    const inner = prefix + indent.repeat(depth + 1)
    const parts = value.map((v) => inner + indentValue(v, prefix, indent, depth + 1))
    return '[\n' + parts.join(',\n') + '\n' + prefix + indent.repeat(depth) + ']'
  }
  if (value instanceof Map) {
    if (value.size === 0) return '{}'
    const inner = prefix + indent.repeat(depth + 1)
    const parts: string[] = []
    for (const [k, v] of value) parts.push(inner + goQuote(k) + ': ' + indentValue(v, prefix, indent, depth + 1))
    return '{\n' + parts.join(',\n') + '\n' + prefix + indent.repeat(depth) + '}'
  }
  return goJson(value)
}

// Raw JSON inside an indented document is re-indented by Go too; do the same from its text.
function indentRaw(text: string, prefix: string, indent: string, depth: number): string {
  let out = ''
  let level = depth
  let inString = false
  let needIndent = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (inString) {
      out += c
      if (c === '\\') {
        out += text[i + 1] ?? ''
        i++
      } else if (c === '"') {
        inString = false
      }
      continue
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') continue
    if (needIndent && c !== ']' && c !== '}') {
      out += '\n' + prefix + indent.repeat(level)
      needIndent = false
    }
    switch (c) {
      case '"':
        inString = true
        out += c
        break
      case '{':
      case '[':
        out += c
        level++
        needIndent = true
        break
      case '}':
      case ']':
        level--
        if (needIndent) needIndent = false // empty container stays `{}` / `[]`
        else out += '\n' + prefix + indent.repeat(level)
        out += c
        break
      case ',':
        out += c
        out += '\n' + prefix + indent.repeat(level)
        break
      case ':':
        out += ': '
        break
      default:
        out += c
    }
  }
  return out
}

const HTML_IN_RAW = /[<>&\u2028\u2029]/g

/**
 * Go's treatment of a json.RawMessage when marshalled: whitespace outside strings removed,
 * HTML-unsafe characters inside strings escaped, everything else (key order, number spelling,
 * existing escapes) kept. The input must already be valid JSON.
 */
export function compactRawJson(text: string): string {
  let out = ''
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // copy the whole string literal, escaping HTML-unsafe characters
      let j = i + 1
      while (j < text.length) {
        const d = text.charCodeAt(j)
        if (d === 0x5c) {
          j += 2
          continue
        }
        if (d === 0x22) break
        j++
      }
      out += text.slice(i, j + 1).replace(HTML_IN_RAW, (ch) => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
      i = j + 1
      continue
    }
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) out += text[i]
    i++
  }
  return out
}
