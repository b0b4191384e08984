import {Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, Scalar, type Node} from 'yaml'
import type {JsonObject, JsonValue} from './json-value.js'
import {parseCanonicalYaml, parseCanonicalYamlLines, type StreamedSequence} from './strict-yaml-fast.js'
import {FlowDepth, MAX_FLOW_DEPTH} from './flow-depth.js'
import {depthBounded} from './yaml-depth.js'
import {FileLines} from './yaml-file-lines.js'
import {resolvePlain, StrictYamlError} from './yaml-resolve.js'

export {StrictYamlError} from './yaml-resolve.js'

/**
 * Strict YAML for signed artifacts (learn-lifecycle.md §1.4). The reference decodes YAML into a
 * generic tree (Go yaml.v3 into `any`), marshals it to JSON and strictly decodes that. A YAML-level
 * gate first refuses every feature that could make two readers disagree about the bytes that get
 * signed: merge keys, anchors/aliases, explicit tags, duplicate keys, several documents.
 *
 * Scalars are parsed with the failsafe schema (everything a string) and retyped here with
 * yaml.v3's resolver rules, so `0x1F`, `1_000`, `True`, `~` and timestamps land exactly where Go
 * puts them (timestamps stay strings: yaml.v3 keeps them as text when decoding into `any`).
 * Documents in our own emitter's subset take a one-pass fast path (strict-yaml-fast.ts).
 */

export const YAML_MERGE_FORBIDDEN = 'yaml: merge keys forbidden in signed artifacts'
export const YAML_EMPTY_DOCUMENT = 'yaml: empty document'
export const YAML_MULTI_DOC = 'yaml: multi-document streams forbidden in signed artifacts'
export const YAML_ANCHORS_FORBIDDEN = 'yaml: anchors and aliases forbidden in signed artifacts'
export const YAML_CUSTOM_TAGS = 'yaml: custom tags forbidden in signed artifacts'
export const YAML_DUPLICATE_KEY = 'yaml: duplicate key'
export const YAML_TOO_DEEP = `yaml: nesting deeper than ${MAX_FLOW_DEPTH} levels`
/** The typed layer's message for an empty or `null` payload (§1.3). */
export const EMPTY_OR_NULL_PAYLOAD = 'empty or null payload'

/**
 * The fast path of `parseStrictYaml` alone, handing one block sequence's items to
 * `stream.onItem` as they are read (strict-yaml-fast.ts `StreamedSequence`). Undefined wherever
 * `parseStrictYaml` would not return the fast path's tree (an error, or another route): the
 * caller then calls `parseStrictYaml`, the authority, and discards what it made of the items.
 */
export function parseStrictYamlStreamed(text: string, stream: StreamedSequence): JsonValue | undefined {
  if (text.includes('<<:') || /^[ \t\r\n]*$/.test(text) || flowDepthExceeded(text) >= 0) return undefined
  return parseCanonicalYaml(text, stream)
}

/**
 * `parseStrictYamlStreamed` over the document in the file open at `fd`, read a chunk at a time
 * from its current position (yaml-file-lines.ts): the same tree where that gives one for the
 * file's text, undefined otherwise (the caller then reads the text and loads it the ordinary way).
 * `onBytes` sees each chunk of bytes as it is read.
 */
export function parseStrictYamlStreamedFd(fd: number, stream: StreamedSequence, chunkBytes?: number, onBytes?: (bytes: Buffer) => void): JsonValue | undefined {
  const lines = new FileLines(fd, chunkBytes, onBytes)
  const value = parseCanonicalYamlLines(lines, stream)
  return value !== undefined && lines.whole() ? value : undefined
}

const ALLOWED_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:map'])
const STR_TAG = 'tag:yaml.org,2002:str'

/**
 * Parses one strict YAML document into the canonical JSON tree (Map objects, JsonNumber numbers).
 * Throws StrictYamlError with the §1.4 message; `line` is 1-based where known. A document whose
 * content is `null` (or `~`, or a bare `---`) returns null; the typed layer refuses it.
 */
export function parseStrictYaml(text: string, options: {fastPath?: boolean} = {}): JsonValue {
  // 1. Raw byte check first, so a merge key wins over the anchor that usually comes with it.
  const merge = text.indexOf('<<:')
  if (merge >= 0) throw new StrictYamlError(YAML_MERGE_FORBIDDEN, lineAt(text, merge))
  // An entirely empty (or all-whitespace) input is the typed layer's "empty or null payload".
  if (/^[ \t\r\n]*$/.test(text)) throw new StrictYamlError(EMPTY_OR_NULL_PAYLOAD)

  // The yaml library exhausts memory on pathological flow nesting (tens of thousands of `[`),
  // which would kill the process instead of refusing the input. Bound it before parsing; the
  // count ignores quoting, so it can only over-estimate (fail closed), never under-estimate.
  const deep = flowDepthExceeded(text)
  if (deep >= 0) throw new StrictYamlError(YAML_TOO_DEEP, lineAt(text, deep))

  // Our own emitter's subset reads in one fast pass; anything else goes to the full parser.
  const fast = options.fastPath === false ? undefined : parseCanonicalYaml(text)
  if (fast !== undefined) return fast

  const lc = new LineCounter()
  // Block nesting is bounded as flow nesting is, as the parser hands each document over and
  // before it is built (the library builds recursively: a few hundred levels of indentation ran
  // out of stack). failsafe: no implicit typing by the library (we apply Go's rules below);
  // uniqueKeys off so a duplicate is reported as the gate's duplicate-key error, not a parse error.
  const tokens = depthBounded(new Parser(lc.addNewLine).parse(text), MAX_FLOW_DEPTH, (at) => {
    throw new StrictYamlError(YAML_TOO_DEEP, lc.linePos(at).line)
  })
  const list = Array.from(new Composer({schema: 'failsafe', uniqueKeys: false, prettyErrors: false, strict: true}).compose(tokens))
  // 2. syntax errors, in document order.
  for (const d of list) {
    const e = d.errors[0]
    if (e !== undefined) {
      const line = lc.linePos(e.pos[0]).line
      throw new StrictYamlError(`yaml parse: line ${line}: ${firstLine(e.message)}`, line)
    }
  }
  // 3. / 4. document count.
  if (list.length === 0) throw new StrictYamlError(YAML_EMPTY_DOCUMENT)
  if (list.length > 1) {
    const second = list[1]?.range[0] ?? 0
    throw new StrictYamlError(YAML_MULTI_DOC, lc.linePos(second).line)
  }
  const doc = list[0]
  if (doc === undefined) throw new StrictYamlError(YAML_EMPTY_DOCUMENT)
  // 5. AST walk: keys before values, document order.
  const walker = new Walker(lc)
  return walker.node(doc.contents as Node | null)
}

class Walker {
  constructor(readonly lc: LineCounter) {}

  line(n: Node | null | undefined): number | undefined {
    const off = n?.range?.[0]
    return off === undefined ? undefined : this.lc.linePos(off).line
  }

  fail(message: string, n: Node | null | undefined): never {
    throw new StrictYamlError(message, this.line(n))
  }

  /** Anchor / alias / tag checks shared by every node. */
  gate(n: Node): void {
    if (isAlias(n)) this.fail(YAML_ANCHORS_FORBIDDEN, n)
    if ((n as {anchor?: string}).anchor !== undefined) this.fail(YAML_ANCHORS_FORBIDDEN, n)
    const tag = (n as {tag?: string}).tag
    if (tag !== undefined && !ALLOWED_TAGS.has(tag)) this.fail(YAML_CUSTOM_TAGS, n)
  }

  node(n: Node | null | undefined, depth = 0): JsonValue {
    if (n === null || n === undefined) return null
    this.gate(n)
    if (depth > MAX_FLOW_DEPTH) this.fail(YAML_TOO_DEEP, n)
    if (isScalar(n)) return this.scalar(n)
    if (isSeq(n)) return n.items.map((item) => this.node(item as Node | null, depth + 1))
    if (isMap(n)) {
      const out: JsonObject = new Map()
      for (const pair of n.items) {
        if (!isPair(pair)) this.fail('yaml parse: unexpected mapping entry', n)
        const keyNode = pair.key as Node | null
        const key = this.key(keyNode, n)
        if (out.has(key)) this.fail(YAML_DUPLICATE_KEY, keyNode ?? n)
        out.set(key, this.node(pair.value as Node | null, depth + 1))
      }
      return out
    }
    return this.fail('yaml parse: unsupported node', n)
  }

  /** The scalar's value; a value JSON cannot carry (NaN, an infinity) is refused at its line. */
  scalar(n: Scalar): JsonValue {
    try {
      return resolveScalar(n)
    } catch (e) {
      if (e instanceof StrictYamlError && e.line === undefined) this.fail(e.message, n)
      throw e
    }
  }

  key(k: Node | null, parent: Node): string {
    if (k === null || k === undefined) return this.fail('yaml: mapping key must be a string', parent)
    this.gate(k)
    if (!isScalar(k)) return this.fail('yaml: mapping key must be a string', k)
    // A plain, untagged `<<` is yaml.v3's merge key even when the raw `<<:` check missed it (`<< :`).
    if (k.type === Scalar.PLAIN && k.tag === undefined && k.value === '<<') this.fail(YAML_MERGE_FORBIDDEN, k)
    const v = this.scalar(k)
    // Go marshals map[interface{}]any to JSON only when every key is a string; refuse the rest.
    if (typeof v !== 'string') return this.fail('yaml: mapping key must be a string', k)
    return v
  }
}

/** yaml.v3's resolver for one scalar (plain scalars only are retyped). */
function resolveScalar(s: Scalar): JsonValue {
  const text = s.value === null || s.value === undefined ? '' : String(s.value)
  if (s.tag === STR_TAG || s.type !== Scalar.PLAIN) return text
  return resolvePlain(text)
}

/** Offset of the first `[`/`{` that opens more than MAX_FLOW_DEPTH levels, else -1. */
function flowDepthExceeded(text: string): number {
  return new FlowDepth().exceededIn(text)
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? s).trim()
}

function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++
  return line
}
