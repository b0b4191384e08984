import {Composer, isMap, isScalar, isSeq, LineCounter, Parser, visit, type Document, type Node} from 'yaml'
import {depthBounded} from '../canonical/index.js'

/** Raised for a YAML-level problem; `line` is 1-based where known. */
export class ConfigYamlError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message)
    this.name = 'ConfigYamlError'
  }
}

export const MULTI_DOC_MESSAGE = 'multiple YAML documents not supported (pipelock config must be a single document)'

/** Path into the YAML tree: mapping keys and sequence indexes. */
export type TreePath = readonly (string | number)[]

export interface YamlSource {
  /** The document as plain JS (mappings are plain objects); `{}` for an empty file. */
  readonly value: unknown
  /** 1-based line of the node at `path` (its key when it is a mapping entry), else of its nearest present ancestor. */
  lineOf(path: TreePath): number | undefined
}

/**
 * Config YAML (§20.1): one document only, duplicate keys refused, anchors and aliases allowed
 * (the config is not a signed artifact, and the reference's yaml.v3 accepts them) with the
 * library's alias-expansion cap against "billion laughs", merge keys (`<<`) honoured like
 * yaml.v3. Scalars follow the YAML 1.2 core schema, as yaml.v3 does (`yes` is a string). An alias
 * inside the node its own anchor names is refused with its line: it makes a config that
 * contains itself, which no setting is, and every later walk of it would never end. So is
 * nesting deeper than MAX_CONFIG_NESTING, before the reader builds the document.
 */
export function parseConfigYaml(text: string): YamlSource {
  const lc = new LineCounter()
  // The reader's two steps (as parseAllDocuments takes them), the nesting bounded between them.
  const tokens = depthBounded(new Parser(lc.addNewLine).parse(text), MAX_CONFIG_NESTING, (at) => {
    throw new ConfigYamlError(TOO_DEEP, lc.linePos(at).line)
  })
  const list = Array.from(new Composer({prettyErrors: false, uniqueKeys: true, merge: true, schema: 'core'}).compose(tokens))
  if (list.length > 1) {
    throw new ConfigYamlError(MULTI_DOC_MESSAGE, lc.linePos(list[1]!.range[0]).line)
  }
  const doc = list[0]
  if (doc === undefined) return {value: {}, lineOf: () => undefined}
  const problem = doc.errors[0]
  if (problem !== undefined) {
    const line = lc.linePos(problem.pos[0]).line
    if (problem.code === 'DUPLICATE_KEY') {
      const key = (text.split('\n')[line - 1] ?? '').trim().replace(/^-\s*/, '').split(':')[0]!.trim()
      throw new ConfigYamlError(`duplicate key ${JSON.stringify(key)}`, line)
    }
    throw new ConfigYamlError(firstLine(problem.message), line)
  }
  if (doc.contents === null) return {value: {}, lineOf: () => undefined}
  refuseRecursiveAliases(doc, lc)
  let value: unknown
  try {
    value = doc.toJS({maxAliasCount: 100})
  } catch (err) {
    throw new ConfigYamlError(firstLine((err as Error).message))
  }
  if (value === null || value === undefined) value = {}
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigYamlError('config must be a YAML mapping at the top level', lineOfNode(lc, doc.contents as Node))
  }
  return {value, lineOf: (path) => lineOfPath(doc, lc, path)}
}

/**
 * Refuses an alias that names one of the nodes enclosing it (`a: &x [*x]`, or `<<: *x` inside
 * `&x`). That is the only way a YAML document becomes cyclic: an alias names an anchor defined
 * before it, so a target that does not enclose the alias ends before it, and a walk along
 * members and such aliases only ever moves to nodes that end earlier.
 */
function refuseRecursiveAliases(doc: Document, lc: LineCounter): void {
  visit(doc, {
    Alias(_key, alias, path) {
      const target = alias.resolve(doc)
      if (target !== undefined && (path as readonly unknown[]).includes(target)) {
        throw new ConfigYamlError(`alias *${alias.source} is inside the node its anchor &${alias.source} names: a config cannot contain itself`, lineOfNode(lc, alias))
      }
    },
  })
}

function lineOfPath(doc: Document, lc: LineCounter, path: TreePath): number | undefined {
  let node: unknown = doc.contents
  let line: number | undefined
  for (const step of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step))
      // An absent key (a rule about a defaulted field) points at its nearest enclosing key.
      if (pair === undefined) return line
      line = isScalar(pair.key) ? lineOfNode(lc, pair.key) : line
      node = pair.value
    } else if (isSeq(node) && typeof step === 'number') {
      node = node.items[step]
      if (node === undefined) return line
      line = lineOfNode(lc, node as Node) ?? line
    } else {
      return line
    }
  }
  return line
}

function lineOfNode(lc: LineCounter, node: Node | null | undefined): number | undefined {
  const start = node?.range?.[0]
  return start === undefined ? undefined : lc.linePos(start).line
}

/**
 * The most collections a config nests (mappings, sequences, flow or block, the top-level mapping
 * counted). The deepest example in docs/ nests six. The reader composes recursively: nesting in
 * the hundreds (`[[[[…`, or list items indented further on each line) ran out of stack, reported
 * as "Maximum call stack size exceeded", or at some stack depths aborted the process in V8's
 * regular-expression compiler.
 */
const MAX_CONFIG_NESTING = 64
const TOO_DEEP = `nested more than ${MAX_CONFIG_NESTING} levels deep (mappings and lists; no config section nests more than a few)`

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s
}
