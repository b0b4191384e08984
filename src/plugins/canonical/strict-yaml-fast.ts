import {resolvePlain} from './yaml-resolve.js'
import type {JsonObject, JsonValue} from './json-value.js'

/**
 * Hands the items of one block sequence to `onItem` as they are read instead of keeping them:
 * the sequence at `path` (mapping keys from the root) reads back as `[]`. A caller that keeps
 * less per item than the item itself (the shadow replay's compact contract) never holds the
 * whole tree. Items are handed out before the rest of the text is read: when the parse then
 * returns `undefined`, whatever the caller made of them must be discarded.
 */
export interface StreamedSequence {
  readonly path: readonly string[]
  /** `parent`: the mapping that holds the sequence, with the keys read before it (it is still being read). */
  readonly onItem: (item: JsonValue, index: number, parent: JsonObject) => void
}

/**
 * A fast reader for the block-YAML subset our signed-document emitter writes (yaml-emit.ts:
 * block mappings and sequences, `key: value` lines, plain, single- and double-quoted one-line
 * scalars, `{}` / `[]`). Written by hand for speed and memory: the `yaml` library's document AST
 * of a 24 MB contract (18k rules) peaks at ≈ 1 GB and takes seconds; this reads the same bytes in
 * one pass into the final tree.
 *
 * It is an accelerator, never the authority: anything outside the subset — a comment, an anchor,
 * a tag, a flow collection, a block scalar, a multi-line scalar, a duplicate key, a tab, a CR, a
 * non-printable character, an unusual indent — returns `undefined`, and the caller runs the full
 * strict parser, which decides (and reports errors with their line). Where it returns a tree, the
 * tree is the one the full parser returns (checked by a differential test over every contract in
 * the repository and mutated variants of them).
 */
export function parseCanonicalYaml(text: string, stream?: StreamedSequence): JsonValue | undefined {
  // One scan for characters the subset never contains: C0 controls but \n (tabs, CR), DEL and
  // C1, surrogates (astral characters), U+FEFF, U+FFFE/FFFF.
  if (!text.endsWith('\n') || UNSUPPORTED_CHAR.test(text) || text.includes('<<')) return undefined
  if (text === '{}\n') return new Map()
  if (text === '[]\n') return []
  return parseCanonicalYamlLines(new Lines(text), stream)
}

/**
 * The lines of a document read forward only, for `parseCanonicalYamlLines`: `at(i)` is asked for
 * the line it last gave or the one after (`Reader` never reads back), and undefined at the end.
 */
export interface ForwardLines {
  at(i: number): string | undefined
}

/** Whether one line (without its newline) holds what `parseCanonicalYaml` refuses in a text. */
export function canonicalLineProblem(line: string): boolean {
  return UNSUPPORTED_CHAR.test(line) || line.includes('<<')
}

/**
 * `parseCanonicalYaml` over lines a caller reads as the parse asks for them (a file read in
 * chunks, never held whole). The caller's lines must have passed the checks `parseCanonicalYaml`
 * makes of the whole text (each line free of `UNSUPPORTED_CHAR` and `<<`, the text ending with a
 * newline: `canonicalLineProblem`); a document of one line `{}` or `[]` is not read here.
 */
export function parseCanonicalYamlLines(lines: ForwardLines, stream?: StreamedSequence): JsonValue | undefined {
  try {
    const first = lines.at(0)
    if (first === undefined) return undefined
    const r = new Reader(lines, stream)
    if (first.startsWith(' ')) return undefined
    const value = first.startsWith('- ') ? r.sequence(0) : r.mapping(0, undefined)
    return lines.at(r.i) === undefined ? value : undefined
  } catch (e) {
    if (e === BAIL) return undefined
    // resolvePlain refuses NaN/Inf: let the full parser produce its error in its own words.
    return undefined
  }
}

// eslint-disable-next-line no-control-regex
const UNSUPPORTED_CHAR = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\ud800-\udfff\ufeff\ufffe\uffff]/

const BAIL = Symbol('bail')

function bail(): never {
  throw BAIL
}

/** First characters a plain scalar or plain key may not start with (YAML indicators). */
const INDICATORS = new Set([...'-?:,[]{}#&*!|>\'"%@`'])
/** yaml (the library) refuses implicit keys longer than 1024 characters; stay well below. */
const MAX_KEY = 1000

function indentOf(line: string): number {
  let n = 0
  while (line.charCodeAt(n) === 0x20) n++
  return n
}

/** The most distinct short strings a parse shares (`Reader.intern`). */
const MAX_INTERNED = 1 << 14

/** Nesting this deep goes to the full parser, which refuses beyond 512 levels. */
const MAX_DEPTH = 256

/**
 * The text's lines (without their `\n`), cut on demand: an array of every line of a 24 MB
 * contract is ≈ 26 MB that lives as long as the parse; line offsets are 4 bytes a line.
 */
class Lines implements ForwardLines {
  readonly length: number
  private readonly starts: Int32Array
  private last = -1
  private lastLine = ''
  constructor(private readonly text: string) {
    let n = 0
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++
    // The text ends with a newline, so every line has one; starts[n] is the end of the text.
    this.starts = new Int32Array(n + 1)
    let k = 1
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts[k++] = i + 1
    this.length = n
  }

  /** Line `i` (0-based), or undefined past the end. */
  at(i: number): string | undefined {
    if (i === this.last) return this.lastLine
    if (i < 0 || i >= this.length) return undefined
    this.last = i
    this.lastLine = this.text.slice(this.starts[i] as number, (this.starts[i + 1] as number) - 1)
    return this.lastLine
  }
}

class Reader {
  i = 0
  private depth = 0
  /**
   * One copy of each key and short value: a contract repeats the same few dozen keys and
   * enum-like values on every rule, and each line slice would otherwise be its own string.
   */
  private readonly strings = new Map<string, string>()
  /** Keys from the root to the value being read (kept only while it can still lead to `stream.path`). */
  private readonly keys: string[] = []
  /** Sequences open around the value being read: a path of keys never leads through one. */
  private inSequence = 0
  constructor(
    readonly lines: ForwardLines,
    private readonly stream?: StreamedSequence,
  ) {}

  /** Whether the value of `key` in the mapping being read is the streamed sequence. */
  private streamsAt(key: string): boolean {
    const want = this.stream?.path
    if (want === undefined || this.inSequence > 0 || this.keys.length !== want.length - 1 || want[want.length - 1] !== key) return false
    return this.keys.every((k, i) => k === want[i])
  }

  intern(s: string): string {
    if (s.length > 32) return s
    const seen = this.strings.get(s)
    if (seen !== undefined) return seen
    // Bounded: the keys and enum-like values recur from the first rules on, and a large
    // contract's path segments and ids, each seen once or twice, would fill the map for nothing
    // (it lives as long as the parse: a streamed 200,000-rule contract's whole read).
    if (this.strings.size < MAX_INTERNED) this.strings.set(s, s)
    return s
  }

  /**
   * A block mapping whose keys sit at column `col`. `inline`: the rest of the current line after a
   * sequence dash (the mapping's first entry), else the mapping starts on line `i`.
   */
  mapping(col: number, inline: string | undefined): JsonObject {
    if (++this.depth > MAX_DEPTH) bail()
    const out: JsonObject = new Map()
    let rest = inline
    for (;;) {
      if (rest === undefined) {
        const line = this.lines.at(this.i)
        if (line === undefined) break
        const ind = indentOf(line)
        if (ind < col) break
        if (ind > col) bail()
        rest = line.slice(col)
        if (rest.startsWith('- ') || rest === '-') {
          // A dash at the mapping's own column ends it only when it belongs to an outer sequence
          // (whose column is smaller); at this column it is a syntax error or a compact sequence.
          bail()
        }
      }
      this.i++
      const [rawKey, after] = this.key(rest)
      const key = this.intern(rawKey)
      if (out.has(key)) bail() // the full parser reports the duplicate with its line
      if (after === '') {
        const streamed = this.streamsAt(key)
        const descend = !streamed && this.stream !== undefined && this.inSequence === 0 && this.keys.length < this.stream.path.length - 1
        if (descend) this.keys.push(key)
        const onItem = streamed ? this.stream?.onItem : undefined
        out.set(key, this.nested(col, onItem === undefined ? undefined : (item, i) => onItem(item, i, out)))
        if (descend) this.keys.pop()
      } else out.set(key, this.inlineValue(after))
      rest = undefined
    }
    this.depth--
    return out
  }

  /** A block sequence whose dashes sit at column `col`, starting on line `i` (items to `onItem` when given). */
  sequence(col: number, onItem?: (item: JsonValue, index: number) => void): JsonValue[] {
    if (++this.depth > MAX_DEPTH) bail()
    const out: JsonValue[] = []
    this.inSequence++
    let n = 0
    const push = onItem === undefined ? (v: JsonValue): void => void out.push(v) : (v: JsonValue): void => onItem(v, n++)
    for (;;) {
      const line = this.lines.at(this.i)
      if (line === undefined) break
      const ind = indentOf(line)
      if (ind < col) break
      if (ind > col) bail()
      if (!line.startsWith('- ', col)) {
        // A line at this column that is not an item: the sequence was a key's compact value
        // (then the line is the next key) — the emitter never writes that form; refuse.
        bail()
      }
      const rest = line.slice(col + 2)
      if (rest === '' || rest.startsWith(' ') || rest.startsWith('- ')) bail()
      if (isMappingEntry(rest)) push(this.mapping(col + 2, rest))
      else {
        this.i++
        push(this.inlineValue(rest))
      }
    }
    this.inSequence--
    this.depth--
    return out
  }

  /** The value of `key:` with nothing after the colon: a nested block, or null. */
  nested(col: number, onItem?: (item: JsonValue, index: number) => void): JsonValue {
    const line = this.lines.at(this.i)
    if (line === undefined) return null
    const ind = indentOf(line)
    if (ind <= col) {
      if (ind === col && line.startsWith('-', col)) bail() // compact sequence under the key
      return null
    }
    return line.startsWith('- ', ind) ? this.sequence(ind, onItem) : this.mapping(ind, undefined)
  }

  /** `KEY:` then `''` (end of line) or `: VALUE` → [key, VALUE]. */
  key(s: string): [string, string] {
    let key: string
    let end: number
    const c = s[0]
    if (c === '"' || c === "'") {
      const q = c === '"' ? doubleQuotedEnd(s) : singleQuotedEnd(s)
      if (q < 0) bail()
      key = c === '"' ? decodeDoubleQuoted(s.slice(1, q)) : s.slice(1, q).replaceAll("''", "'")
      end = q + 1
      if (s[end] !== ':') bail()
    } else {
      end = plainKeyEnd(s)
      key = s.slice(0, end)
      if (!isPlain(key) || key === '<<') bail()
      if (typeof resolvePlain(key) !== 'string') bail() // non-string keys: the full parser refuses them
    }
    if (end > MAX_KEY) bail()
    if (end + 1 === s.length) return [key, '']
    if (s[end + 1] !== ' ' || s[end + 2] === ' ' || end + 2 === s.length) bail()
    return [key, s.slice(end + 2)]
  }

  /** A value on the same line as its key or dash. */
  inlineValue(s: string): JsonValue {
    if (s === '{}') return new Map()
    if (s === '[]') return []
    const c = s[0]
    if (c === '"') {
      if (doubleQuotedEnd(s) !== s.length - 1) bail()
      return decodeDoubleQuoted(s.slice(1, -1))
    }
    if (c === "'") {
      if (singleQuotedEnd(s) !== s.length - 1) bail()
      return s.slice(1, -1).replaceAll("''", "'")
    }
    // (A more-indented next line, which would continue a multi-line plain scalar, makes the
    // enclosing mapping or sequence bail.)
    if (!isPlain(s) || s.includes(': ') || s.endsWith(':')) bail()
    const v = resolvePlain(s)
    return typeof v === 'string' ? this.intern(v) : v
  }
}

/** Whether a sequence item's text is a mapping entry (`key: …` or `key:`), not a scalar. */
function isMappingEntry(s: string): boolean {
  const c = s[0]
  if (c === '"' || c === "'") {
    const q = c === '"' ? doubleQuotedEnd(s) : singleQuotedEnd(s)
    if (q < 0) bail()
    if (q === s.length - 1) return false
    if (s[q + 1] === ':') return true
    return bail()
  }
  if (c === '{' || c === '[') return false
  return plainKeyEnd(s) < s.length
}

/** Index of the colon that ends a plain key (`: ` or a final `:`), or s.length. */
function plainKeyEnd(s: string): number {
  let from = 0
  for (;;) {
    const k = s.indexOf(':', from)
    if (k < 0) return s.length
    if (k === s.length - 1 || s[k + 1] === ' ') return k
    from = k + 1
  }
}

/** A one-line plain scalar the full parser reads back as exactly these characters. */
function isPlain(s: string): boolean {
  if (s === '') return false
  const c = s[0] as string
  if (INDICATORS.has(c)) {
    // `-x`, `?x`, `:x` are plain when not followed by a space; the rest never start one.
    if (!((c === '-' || c === '?' || c === ':') && s.length > 1 && s[1] !== ' ')) return false
  }
  if (s.endsWith(' ') || s.includes(' #')) return false
  if (s.startsWith('---') || s.startsWith('...')) return false
  return true
}

/** Index of the closing quote of a double-quoted scalar starting at 0, or -1. */
function doubleQuotedEnd(s: string): number {
  for (let i = 1; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x5c) i++
    else if (c === 0x22) return i
  }
  return -1
}

/** Index of the closing quote of a single-quoted scalar starting at 0 (`''` escapes), or -1. */
function singleQuotedEnd(s: string): number {
  for (let i = 1; i < s.length; i++) {
    if (s.charCodeAt(i) === 0x27) {
      if (s.charCodeAt(i + 1) === 0x27) i++
      else return i
    }
  }
  return -1
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '0': '\0', a: '\x07', b: '\b', t: '\t', n: '\n', v: '\v', f: '\f', r: '\r', e: '\x1b',
  ' ': ' ', '"': '"', '/': '/', '\\': '\\', N: '\u0085', _: '\u00a0', L: '\u2028', P: '\u2029',
}
const HEX_LEN: Record<string, number> = {x: 2, u: 4, U: 8}

/** The body of a one-line double-quoted scalar (YAML 1.2 escapes). */
function decodeDoubleQuoted(body: string): string {
  if (!body.includes('\\')) return body
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string
    if (ch !== '\\') {
      out += ch
      continue
    }
    const e = body[++i] as string | undefined
    if (e === undefined) bail()
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) {
      out += simple
      continue
    }
    const n = HEX_LEN[e]
    if (n === undefined) bail()
    const hex = body.slice(i + 1, i + 1 + n)
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) bail()
    const cp = Number.parseInt(hex, 16)
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) bail()
    out += String.fromCodePoint(cp)
    i += n
  }
  return out
}
