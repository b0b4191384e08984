/**
 * Tool-definition scanning (spec mcp.md §6.1–§6.3): the text of each tool (description, schema
 * texts, parameter names) through the shared injection scanner, the poison patterns on the
 * tool-text normalisation, and exfiltration parameter names. Fixes Q8 (every tool decoded on its
 * own, nameless ones scanned too), Q9 (title, annotations, outputSchema scanned — and every
 * other string of a definition) and Q47 (sorted schema walk).
 */
import RE2 from 're2'
import {createHash} from 'node:crypto'
import {goJson, type JsonObject, type JsonValue} from '../../canonical/index.js'
import {leetspeak, mapExoticWhitespace, stripControlChars, type Scanner} from '../../scanner/index.js'
import {MAX_EXTRACT_DEPTH, sortedKeys, valueStrings} from '../jsonrpc/extract.js'
import {isObject} from '../jsonrpc/frame.js'
import {HiddenIntentRules} from './hidden-intent.js'

/**
 * [fix] The reference stops at depth 20, so a description under eleven nested `properties` was
 * never read; here every level the frame parser accepts.
 */
const MAX_SCHEMA_DEPTH = MAX_EXTRACT_DEPTH

export const POISON_PATTERNS: ReadonlyArray<{name: string; regex: string}> = Object.freeze([
  {
    name: 'Instruction Tag',
    regex: '(?i)(?:<\\s*(?:IMPORTANT|CRITICAL|SYSTEM|INSTRUCTION|SECRET|HIDDEN|URGENT)\\b[^>]{0,100}>|\\[\\s*(?:IMPORTANT|CRITICAL|SYSTEM|INSTRUCTION|SECRET|HIDDEN|URGENT)\\b[^\\]]{0,100}\\]|\\*{2}\\s*(?:IMPORTANT|CRITICAL|SYSTEM|INSTRUCTION|SECRET|HIDDEN|URGENT)\\b[^*]{0,100}\\*{2})',
  },
  {
    name: 'File Exfiltration Directive',
    regex: '(?i)(read|send|include|exfiltrate|steal|access|retrieve|fetch|dump|upload|cat|prepend|append|add|attach|embed)\\s+.{0,40}(\\.ssh|\\.env|\\.aws|credentials|private[_\\s]?key|id_rsa|passwd)',
  },
  {
    name: 'File Exfiltration Directive',
    regex: '(?i)(\\.ssh|\\.env|\\.aws|credentials|private[_\\s]?key|id_rsa|passwd).{0,40}(read|send|include|exfiltrate|steal|access|retrieve|fetch|dump|upload|cat|prepend|append|add|attach|embed)\\b',
  },
  {name: 'Cross-Tool Manipulation', regex: "(?i)(instead\\s+of|rather\\s+than|don't\\s+use|never\\s+use|always\\s+prefer)\\s+(using\\s+)?(the\\s+)?\\w+\\s+(tool|function|command)"},
  {
    name: 'Dangerous Capability',
    regex: '(?i)\\b(execut(?:e[ds]?|ing)|run(?:s|ning)?|launch(?:e[ds]?|ing)?|spawn(?:s|ed|ing)?)\\b\\s+.{0,40}(local\\s+(?:file|script)|(?:a|the|any)\\s+(?:file|script)\\b|(?:shell|arbitrary|system)\\s+(?:command|script))',
  },
  {name: 'Dangerous Capability', regex: '(?i)(download|fetch|retriev)\\w*\\s+.{0,60}(execut|run|launch)\\w*\\s+(?:it|them)\\b'},
  {name: 'Dangerous Capability', regex: '(?i)(call|use|invoke)\\s+(the\\s+)?(bash|shell|exec|terminal|command|cmd)\\s+(tool|function).{0,40}(run|execut|curl|wget|nc\\b|ncat|python|perl|ruby|node\\b)'},
  {
    name: 'Data Routing Directive',
    regex: '(?i)(first\\s+call\\s+this\\s+tool|before\\s+(?:using|calling|sending)|when\\s+(?:the\\s+user|you)\\s+(?:asks?\\s+to\\s+)?use\\s+\\w+\\s+tool).{0,80}(pass|send|include|forward)\\s+(the\\s+)?(full|entire|complete)?\\s*(body|content|data|message|email|payload|request\\s+body)\\s+.{0,40}(parameter|argument|field)',
  },
])

export const EXFIL_PARAM_PATTERN =
  '(?i)\\b(content|data|value|result|output|read|fetch|get|dump|steal|exfil|extract|copy|upload|send)\\b.{0,40}\\b(ssh.{0,5}(?:id.rsa|key)|id.rsa|private.key|api.key|secret.key|credentials?|passwd|env.(?:secret|key|file|var)|aws.secret|access.token|auth.token)\\b'

/** One tool as received, decoded leniently (a bad field never hides the others, fix Q8). */
export interface ToolDefinition {
  readonly index: number
  readonly name: string
  readonly description: string
  readonly inputSchema: JsonValue | undefined
  readonly raw: JsonObject
}

export function decodeTools(tools: readonly JsonObject[]): ToolDefinition[] {
  return tools.map((t, index) => {
    const name = t.get('name')
    const desc = t.get('description')
    return {
      index,
      name: typeof name === 'string' ? name : '',
      // A non-string description is still scanned (its string leaves), never skipped.
      description: typeof desc === 'string' ? desc : valueStrings(desc).join(' '),
      inputSchema: t.get('inputSchema'),
      raw: t,
    }
  })
}

/** `schemaTexts` (§6.2) with byte-sorted keys. */
export function schemaTexts(schema: JsonValue | undefined): string[] {
  const out: string[] = []
  if (typeof schema === 'string') {
    if (schema !== '') out.push(schema)
    return out
  }
  walkSchema(schema, 0, out)
  return out
}

const TEXT_MEMBERS = new Set(['description', 'title', 'pattern', '$comment'])
const LEAF_MEMBERS = new Set(['default', 'const', 'enum', 'examples'])

function walkSchema(v: JsonValue | undefined, depth: number, out: string[]): void {
  if (depth > MAX_SCHEMA_DEPTH || v === undefined || v === null) return
  if (Array.isArray(v)) {
    for (const x of v) walkSchema(x, depth + 1, out)
    return
  }
  if (!isObject(v)) return
  for (const k of sortedKeys(v)) {
    const x = v.get(k)
    if (TEXT_MEMBERS.has(k) && typeof x === 'string') {
      if (x !== '') out.push(x)
    } else if (LEAF_MEMBERS.has(k) || k.startsWith('x-') || k.startsWith('X-')) {
      stringLeaves(x, depth + 1, out)
    } else {
      walkSchema(x, depth + 1, out)
    }
  }
}

function stringLeaves(v: JsonValue | undefined, depth: number, out: string[]): void {
  if (depth > MAX_SCHEMA_DEPTH || v === undefined || v === null) return
  if (typeof v === 'string') {
    if (v !== '') out.push(v)
  } else if (Array.isArray(v)) {
    for (const x of v) stringLeaves(x, depth + 1, out)
  } else if (isObject(v)) {
    for (const k of sortedKeys(v)) stringLeaves(v.get(k), depth + 1, out)
  }
}

/** Every key of every `properties` object in the schema (depth ≤ 20), sorted and de-duplicated. */
export function paramNames(schema: JsonValue | undefined): string[] {
  const out = new Set<string>()
  const walk = (v: JsonValue | undefined, depth: number): void => {
    if (depth > MAX_SCHEMA_DEPTH || v === undefined || v === null) return
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1)
      return
    }
    if (!isObject(v)) return
    const props = v.get('properties')
    if (isObject(props)) for (const k of props.keys()) out.add(k)
    for (const k of sortedKeys(v)) walk(v.get(k), depth + 1)
  }
  walk(schema, 0)
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** `expand(p)`: `_`/`-` → space, camelCase and acronym boundaries split, lower-cased. */
export function expandParamName(p: string): string {
  const chars = [...p.replace(/[_-]/g, ' ')]
  let out = ''
  const isUpper = (c: string | undefined) => c !== undefined && c !== c.toLowerCase() && c === c.toUpperCase()
  const isLower = (c: string | undefined) => c !== undefined && c !== c.toUpperCase() && c === c.toLowerCase()
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (i > 0 && isUpper(c) && (isLower(chars[i - 1]) || (isUpper(chars[i - 1]) && isLower(chars[i + 1])))) out += ' '
    out += c
  }
  return out.toLowerCase()
}

export interface ToolFinding {
  readonly tool: string
  readonly index: number
  /** Finding names: injection pattern names, poison names, `Exfiltration Parameter Name`, `definition-drift`. */
  readonly findings: readonly string[]
  /** Drift summary when drift was found. */
  readonly drift: string
}

export class ToolScanner {
  private readonly poison: ReadonlyArray<{name: string; re: RE2}>
  /** Community rule bundles' tool-poison patterns (scanner settings), by the field they scan. */
  private readonly bundlePoison: ReadonlyArray<{name: string; re: RE2; field: 'description' | 'name'}>
  private readonly exfil: RE2
  private readonly hidden: HiddenIntentRules

  constructor(private readonly scanner: Scanner) {
    this.poison = POISON_PATTERNS.map((p) => ({name: p.name, re: new RE2(p.regex, 'u')}))
    this.bundlePoison = (scanner.settings.toolPoison ?? []).map((p) => ({name: p.name, re: new RE2(p.regex, 'u'), field: p.scanField}))
    this.exfil = new RE2(EXFIL_PARAM_PATTERN, 'u')
    this.hidden = new HiddenIntentRules(scanner)
  }

  /** `ForToolText`: StripControlChars → NFKC → ConfusableToASCII → StripCombiningMarks → Leetspeak → Whitespace. */
  forToolText(s: string): string {
    const n = this.scanner.response.normalizer
    return mapExoticWhitespace(leetspeak(n.stripCombiningMarks(n.confusableToAscii(stripControlChars(s).normalize('NFKC')))))
  }

  /** The scanned text of one tool (§6.2 plus the Q9 fields). */
  toolText(t: ToolDefinition): {text: string; params: string[]; parts: string[]} {
    const params = paramNames(t.inputSchema)
    const parts: string[] = []
    if (t.description !== '') parts.push(t.description)
    parts.push(...schemaTexts(t.inputSchema))
    for (const p of params) {
      const e = expandParamName(p)
      if (e !== p) parts.push(e)
      parts.push(p)
    }
    const title = t.raw.get('title')
    if (typeof title === 'string' && title !== '') parts.push(title)
    parts.push(...valueStrings(t.raw.get('annotations')).filter((s) => s !== ''))
    parts.push(...schemaTexts(t.raw.get('outputSchema')))
    // [fix] Every other string of the definition, last: a client hands the model the whole tool
    // (a schema keyword such as `markdownDescription` or `format`, `_meta`, a member no spec
    // names), and the general scan of the message leaves `tools` to this scan.
    const seen = new Set(parts)
    for (const k of sortedKeys(t.raw)) {
      if (k === 'name') continue
      for (const s of valueStrings(t.raw.get(k))) {
        if (s === '' || seen.has(s)) continue
        seen.add(s)
        parts.push(s)
      }
    }
    return {text: parts.join(' '), params, parts}
  }

  /** Checks 1–3 of §6.3 for one tool, then the [ext] hidden-intent rules (hidden-intent.ts). */
  scanTool(t: ToolDefinition): {findings: string[]; params: string[]} {
    const {text, params, parts} = this.toolText(t)
    const findings: string[] = []
    if (text !== '') {
      const r = this.scanner.scanResponse(text)
      if (!r.clean) findings.push(...new Set(r.matches.map((m) => m.pattern)))
      const tt = this.forToolText(text)
      for (const p of this.poison) if (p.re.test(tt)) findings.push(p.name)
      for (const p of this.bundlePoison) if (p.field === 'description' && p.re.test(tt)) findings.push(p.name)
      findings.push(...this.hidden.scan(parts))
    }
    if (this.bundlePoison.length > 0 && t.name !== '') {
      const nameText = this.forToolText(t.name)
      for (const p of this.bundlePoison) if (p.field === 'name' && p.re.test(nameText)) findings.push(p.name)
    }
    for (const p of params) {
      if (this.exfil.test(this.forToolText(expandParamName(p)))) {
        findings.push('Exfiltration Parameter Name')
        break
      }
    }
    return {findings, params}
  }
}

/**
 * Members of a tool beside its description and input schema that a client acts on: the title
 * and annotations a person approves (`readOnlyHint`, `destructiveHint`), the output schema.
 */
export const DRIFT_MEMBERS = ['title', 'annotations', 'outputSchema'] as const

/** Each drift member's JSON ('' when absent), for naming what changed. */
export function driftMembers(t: ToolDefinition): Record<string, string> {
  const out: Record<string, string> = {}
  for (const k of DRIFT_MEMBERS) {
    const v = t.raw.get(k)
    out[k] = v === undefined ? '' : goJson(v)
  }
  return out
}

/**
 * Drift hash: SHA-256(description ‖ 0x00 ‖ inputSchema JSON), hex — and [fix] ‖ 0x00 ‖ each drift
 * member's JSON: a rug-pull that turns a destructive tool's annotations into `readOnlyHint: true`
 * or rewrites its title changes what a client lets through without asking.
 */
export function toolHash(t: ToolDefinition, members: Readonly<Record<string, string>> = driftMembers(t)): string {
  const schema = t.inputSchema === undefined ? '' : goJson(t.inputSchema)
  const h = createHash('sha256').update(t.description).update(Buffer.from([0])).update(schema)
  for (const k of DRIFT_MEMBERS) h.update(Buffer.from([0])).update(members[k] ?? '')
  return h.digest('hex')
}
