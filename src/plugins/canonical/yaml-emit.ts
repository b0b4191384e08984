import {compareUtf8} from './go-string.js'
import {JsonNumber, RawJson, type JsonValue} from './json-value.js'
import {parseJson} from './strict-json.js'

/**
 * The YAML writer for signed documents (learn-compile §11): the reference renders
 * JSON → yaml.v3 node tree → yaml.v3 emitter (indent 4, unlimited width). Off-the-shelf YAML
 * libraries choose other scalar styles and indents, and the contract bytes are compared
 * byte-for-byte, so this is a small dedicated emitter for the tiny output grammar.
 *
 * Objects become block mappings with keys in Go byte order, arrays block sequences, strings
 * `!!str` scalars, numbers their literal text. A string containing a line break is refused
 * (§11.3 item 4 allows a port to reject it): no compiled field can carry one.
 */
export class YamlEmitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'YamlEmitError'
  }
}

/** Where emitted lines go: the output sink, or a plain array for a nested sequence. */
interface Lines {
  push(line: string): void
}

/**
 * Collects output lines into ≈ 64 KiB pieces handed to `write`: a contract of tens of thousands
 * of rules is ≈ a million lines, so neither the lines nor (when streaming) the document are held.
 */
class LineSink implements Lines {
  private piece = ''

  constructor(private readonly write: (chunk: string) => void) {}

  push(line: string): void {
    this.piece += line + '\n'
    if (this.piece.length >= 65536) this.flush()
  }

  flush(): void {
    if (this.piece !== '') this.write(this.piece)
    this.piece = ''
  }
}

/**
 * Items to emit in place of one array of the tree (matched by identity), with their count (an
 * empty one is written `[]`), produced on demand while streaming: either values, or `lines`,
 * which writes the items' lines itself (the sequence's column is given; the writer must lay
 * its items out exactly as the emitter would there).
 */
export type YamlArrayExpander = (
  array: readonly JsonValue[],
) => {count: number; items?: Iterable<JsonValue>; lines?: (push: (line: string) => void, col: number) => void} | undefined

export function emitSignedYaml(value: JsonValue): string {
  const parts: string[] = []
  emitSignedYamlTo(value, (chunk) => parts.push(chunk))
  return parts.join('')
}

/** Streams the document `emitSignedYaml` returns to `write`, in ≈ 64 KiB pieces. */
export function emitSignedYamlTo(value: JsonValue, write: (chunk: string) => void, expand?: YamlArrayExpander): void {
  const v = value instanceof RawJson ? parseJson(value.text) : value
  if (v instanceof Map && v.size === 0) return write('{}\n')
  if (Array.isArray(v) && (expand?.(v)?.count ?? v.length) === 0) return write('[]\n')
  if (!(v instanceof Map) && !Array.isArray(v)) return write(scalar(v) + '\n')
  const lines = new LineSink(write)
  if (v instanceof Map) emitMapping(v, 0, lines, '', expand)
  else emitSequence(v, 0, lines, expand)
  lines.flush()
}

/**
 * The lines the emitter writes for `item` as one item of a block sequence whose dashes sit at
 * column `col`: what a `YamlArrayExpander`'s `lines` writer pushes for each item it holds as a
 * tree (a sequence's lines are its items' lines, one item after another).
 */
export function emitSequenceItem(item: JsonValue, col: number, push: (line: string) => void): void {
  emitSequence([item], col, {push}, undefined)
}

/**
 * Throws the YamlEmitError `emitSignedYaml` would throw for `value` (a string with a line break),
 * without emitting: a streamed document is checked before any of it is written.
 */
export function assertYamlEmittable(value: JsonValue): void {
  if (typeof value === 'string') quoteString(value)
  else if (value instanceof Map) {
    for (const [k, v] of value) {
      quoteString(k)
      assertYamlEmittable(v)
    }
  } else if (Array.isArray(value)) for (const v of value) assertYamlEmittable(v)
  else if (value instanceof RawJson) assertYamlEmittable(parseJson(value.text))
}

// Nested block under a key at column c sits at the next multiple of 4 above c (yaml.v3 indent 4).
function childIndent(c: number): number {
  return 4 * Math.floor((c + 4) / 4)
}

function norm(v: JsonValue): JsonValue {
  return v instanceof RawJson ? parseJson(v.text) : v
}

function isEmptyContainer(v: JsonValue, expand: YamlArrayExpander | undefined): string | undefined {
  if (v instanceof Map && v.size === 0) return '{}'
  if (Array.isArray(v) && (expand?.(v)?.count ?? v.length) === 0) return '[]'
  return undefined
}

/**
 * Emits the mapping's entries; the first line is prefixed with `firstPrefix` (a `- ` sequence
 * marker placed by the caller) instead of indentation.
 */
function emitMapping(m: Map<string, JsonValue>, col: number, lines: Lines, firstPrefix: string, expand: YamlArrayExpander | undefined): void {
  const keys = [...m.keys()].sort(compareUtf8)
  keys.forEach((k, i) => {
    const lead = i === 0 && firstPrefix !== '' ? firstPrefix : ' '.repeat(col)
    const v = norm(m.get(k) as JsonValue)
    const key = scalar(k)
    const empty = isEmptyContainer(v, expand)
    if (empty !== undefined) lines.push(`${lead}${key}: ${empty}`)
    else if (v instanceof Map) {
      lines.push(`${lead}${key}:`)
      emitMapping(v, childIndent(col), lines, '', expand)
    } else if (Array.isArray(v)) {
      lines.push(`${lead}${key}:`)
      emitSequence(v, childIndent(col), lines, expand)
    } else lines.push(`${lead}${key}: ${scalar(v)}`)
  })
}

function emitSequence(array: JsonValue[], col: number, lines: Lines, expand: YamlArrayExpander | undefined): void {
  const expanded = expand?.(array)
  if (expanded?.lines !== undefined) return expanded.lines((line) => lines.push(line), col)
  const items = expanded?.items ?? array
  for (const raw of items) {
    const item = norm(raw)
    const dash = ' '.repeat(col) + '- '
    const empty = isEmptyContainer(item, expand)
    if (empty !== undefined) lines.push(dash + empty)
    else if (item instanceof Map) emitMapping(item, col + 2, lines, dash, expand)
    else if (Array.isArray(item)) {
      // Nested sequences never occur in signed documents; yaml.v3 writes them as `- - x`.
      const sub: string[] = []
      emitSequence(item, col + 2, sub, expand)
      if (sub.length > 0) sub[0] = dash + (sub[0] as string).slice(col + 2)
      for (const line of sub) lines.push(line)
    } else lines.push(dash + scalar(item))
  }
}

function scalar(v: JsonValue): string {
  if (v === null) return 'null'
  if (v === true) return 'true'
  if (v === false) return 'false'
  if (v instanceof JsonNumber) return v.text
  if (typeof v === 'string') return quoteString(v)
  throw new YamlEmitError('container in scalar position')
}

// §11.3 (1): plain text yaml.v3's resolver would read as non-string.
const FORCED = new Set([
  '', '~', 'null', 'Null', 'NULL', 'true', 'True', 'TRUE', 'false', 'False', 'FALSE',
  '.nan', '.NaN', '.NAN', '.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '<<',
])

const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/
const INT64_MAX = 2n ** 63n - 1n
const UINT64_MAX = 2n ** 64n - 1n

/** Go strconv.ParseInt/ParseUint(s, 0, 64) success (underscores already removed). */
function goParsesInt(s: string): boolean {
  let sign = ''
  let body = s
  if (body[0] === '+' || body[0] === '-') {
    sign = body[0]
    body = body.slice(1)
  }
  if (body === '') return false
  let digits: string
  let radix: number
  const lower = body.toLowerCase()
  if (lower.startsWith('0x')) [digits, radix] = [body.slice(2), 16]
  else if (lower.startsWith('0o')) [digits, radix] = [body.slice(2), 8]
  else if (lower.startsWith('0b')) [digits, radix] = [body.slice(2), 2]
  else if (body.length > 1 && body[0] === '0') [digits, radix] = [body.slice(1), 8]
  else [digits, radix] = [body, 10]
  if (digits === '') return false
  const alphabet = '0123456789abcdef'.slice(0, radix)
  for (const ch of digits.toLowerCase()) if (!alphabet.includes(ch)) return false
  let n = 0n
  for (const ch of digits.toLowerCase()) n = n * BigInt(radix) + BigInt(alphabet.indexOf(ch))
  if (sign === '-') return n <= INT64_MAX + 1n
  if (sign === '+') return n <= INT64_MAX
  return n <= UINT64_MAX
}

function validDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false
  const days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
  return d <= (days[m - 1] as number)
}

const TS_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/
const TS_ISO = /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const TS_SPACE = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$/

function isYamlTimestamp(s: string): boolean {
  let m = TS_DATE.exec(s)
  if (m) return validDate(Number(m[1]), Number(m[2]), Number(m[3]))
  m = TS_ISO.exec(s) ?? TS_SPACE.exec(s)
  if (!m) return false
  if (!validDate(Number(m[1]), Number(m[2]), Number(m[3]))) return false
  return Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) < 60
}

function resolvesAsNonString(s: string): boolean {
  if (FORCED.has(s)) return true
  const c = s[0] as string
  if (c === '.') return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s)
  if (!((c >= '0' && c <= '9') || c === '+' || c === '-')) return false
  if (/^\d{4}-/.test(s) && isYamlTimestamp(s)) return true
  const plain = s.replaceAll('_', '')
  if (goParsesInt(plain)) return true
  if (YAML_FLOAT.test(plain)) return true
  if (/^-?0b[01]+$/.test(plain) || /^-?0o[0-7]+$/.test(plain)) return true
  return false
}

// yaml.v3 "printable": \n, 0x20–0x7E, U+00A0–U+D7FF, U+E000–U+FFFD except U+FEFF; \t, \r and astral are not.
function isPrintable(cp: number): boolean {
  if (cp === 0x0a) return true
  if (cp >= 0x20 && cp <= 0x7e) return true
  if (cp >= 0xa0 && cp <= 0xd7ff) return true
  if (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff) return true
  return false
}

/** One string as the emitter writes it in a scalar position (plain, single- or double-quoted). */
export function yamlString(s: string): string {
  return quoteString(s)
}

/**
 * Strings written plain, decided in one pass (compile writes ten strings a rule; bench: compile):
 * a letter or `/` first, then letters, digits, spaces and `._/;,~-`, not ending in a space. Such a
 * string holds no line break, tab, indicator, `: ` or ` #`, and resolves to a non-string only when
 * it is one of the FORCED words; every other string takes the full checks.
 */
const PLAIN_SAFE = /^[A-Za-z/][A-Za-z0-9 ._/;,~-]*$/

function quoteString(s: string): string {
  if (PLAIN_SAFE.test(s) && s.charCodeAt(s.length - 1) !== 0x20 && !FORCED.has(s)) return s
  if (s.includes('\n') || s.includes('\r') || s.includes('\u0085') || s.includes('\u2028') || s.includes('\u2029')) {
    throw new YamlEmitError(`refusing to emit a line break inside a signed YAML string: ${JSON.stringify(s)}`)
  }
  if (resolvesAsNonString(s)) return doubleQuoted(s)
  let needsDouble = false
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    if (cp === 0x09 || !isPrintable(cp)) {
      needsDouble = true
      break
    }
  }
  if (needsDouble) return doubleQuoted(s)
  if (needsSingle(s)) return `'${s.replaceAll("'", "''")}'`
  return s
}

function needsSingle(s: string): boolean {
  if (s.startsWith('---') || s.startsWith('...')) return true
  const c = s[0] as string
  if ('#,[]{}&*!|>\'"%@`'.includes(c)) return true
  if ((c === '?' || c === ':' || c === '-') && (s.length === 1 || s[1] === ' ' || s[1] === '\t')) return true
  if (/:[ \t]/.test(s) || s.endsWith(':')) return true
  if (/[ \t]#/.test(s)) return true
  if (s.startsWith(' ') || s.endsWith(' ')) return true
  return false
}

function doubleQuoted(s: string): string {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0) as number
    switch (cp) {
      case 0x00: out += '\\0'; continue
      case 0x07: out += '\\a'; continue
      case 0x08: out += '\\b'; continue
      case 0x09: out += '\\t'; continue
      case 0x0a: out += '\\n'; continue
      case 0x0b: out += '\\v'; continue
      case 0x0c: out += '\\f'; continue
      case 0x0d: out += '\\r'; continue
      case 0x1b: out += '\\e'; continue
      case 0x22: out += '\\"'; continue
      case 0x5c: out += '\\\\'; continue
      case 0x85: out += '\\N'; continue
      case 0x2028: out += '\\L'; continue
      case 0x2029: out += '\\P'; continue
    }
    if (isPrintable(cp) && cp !== 0xfeff) out += ch
    else if (cp <= 0xff) out += '\\x' + cp.toString(16).toUpperCase().padStart(2, '0')
    else if (cp <= 0xffff) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0')
    else out += '\\U' + cp.toString(16).toUpperCase().padStart(8, '0')
  }
  return out + '"'
}
