/**
 * `pipelock mcp scan` (spec mcp.md §13): one verdict per non-blank line of server output, with the
 * general scan of §5.2 (no media policy or tracker). Pure: the command feeds lines.
 *
 * [ext] The tool definitions of a tools/list also go through the tool scan `mcp proxy` runs
 * (`ToolScanner.scanTool`, §6.3 and the hidden-intent rules), so scan finds what the proxy blocks;
 * the reference runs only the general scan here (docs/compatibility.md).
 */
import {goJson, RawJson, type JsonObject} from '../../canonical/index.js'
import {foldVowels, leetspeak, replaceInvisibleWithSpace, type ResponseMatch, type Scanner} from '../../scanner/index.js'
import {isObject, parseFrame, trimGoSpace} from '../jsonrpc/frame.js'
import {decodeTools, type ToolScanner} from '../tools/scan.js'
import {scanMessage, toolsListOf} from './response.js'

export interface ScanMatch {
  readonly pattern_name: string
  readonly match_text: string
  readonly position: number
}

/** One poisoned tool definition: its name (`#<index>` when nameless) and the tool scan's findings. */
export interface ScanToolFinding {
  readonly tool: string
  readonly findings: readonly string[]
}

export interface ScanLineVerdict {
  readonly line: number
  /** Raw JSON id text, or null. */
  readonly id: string | null
  readonly clean: boolean
  readonly action?: string
  readonly matches?: readonly ScanMatch[]
  /** [ext] Tool-definition findings of a tools/list, with the action `mcp proxy` takes on them. */
  readonly tool_action?: string
  readonly tools?: readonly ScanToolFinding[]
  readonly error?: string
}

/** What a line is scanned with, and the actions `mcp proxy` would take for this config. */
export interface ScanLineOptions {
  readonly scanner: Scanner
  /** null when `mcp proxy` would not scan tool definitions (tool scanning disabled in the config). */
  readonly toolScanner: ToolScanner | null
  readonly action: string
  readonly toolAction: string
}

/** The matched text as the scanner saw it (normalised), for the passes that keep positions. */
function matchText(scanner: Scanner, content: string, m: ResponseMatch): string {
  const n = scanner.response.normalizer
  let t: string
  switch (m.pass) {
    case 'normalized':
    case 'optional_whitespace':
      t = n.forMatching(content)
      break
    case 'invisible':
      t = n.forMatching(replaceInvisibleWithSpace(content))
      break
    case 'leetspeak':
      t = leetspeak(n.forMatching(content))
      break
    case 'vowel_fold':
      t = foldVowels(n.forMatching(content))
      break
    default:
      return ''
  }
  return t.slice(m.position, m.position + m.length)
}

interface LineScan {
  id: string | null
  matches: ScanMatch[]
  tools: ScanToolFinding[]
  error?: string
}

/** The tool scan of `mcp proxy` (response stage tool_scan) on each definition of a tools/list. */
function scanToolsList(toolScanner: ToolScanner | null, msg: JsonObject): ScanToolFinding[] {
  const tools = toolScanner === null ? null : toolsListOf(msg)
  if (tools === null || toolScanner === null) return []
  const out: ScanToolFinding[] = []
  for (const def of decodeTools(tools)) {
    const {findings} = toolScanner.scanTool(def)
    if (findings.length > 0) out.push({tool: def.name === '' ? `#${def.index}` : def.name, findings})
  }
  return out
}

function scanOne(o: ScanLineOptions, text: string): LineScan {
  const scanner = o.scanner
  const frame = parseFrame(text)
  if (frame.value === undefined || (frame.error !== null && !frame.isBatch)) return {id: frame.id, matches: [], tools: [], error: frame.error ?? 'invalid JSON'}
  const msg = frame.value
  if (!isObject(msg)) return {id: null, matches: [], tools: [], error: 'invalid JSON: not an object'}
  const jsonrpc = msg.get('jsonrpc')
  if (jsonrpc !== '2.0') return {id: frame.id, matches: [], tools: [], error: `not a JSON-RPC 2.0 response: jsonrpc="${typeof jsonrpc === 'string' ? jsonrpc : ''}"`}
  const r = scanMessage(scanner, msg, false)
  return {
    id: frame.id,
    matches: r.matches.map((m) => ({pattern_name: m.pattern, match_text: matchText(scanner, r.text, m), position: m.position})),
    tools: scanToolsList(o.toolScanner, msg),
  }
}

export function scanServerLine(o: ScanLineOptions, lineNo: number, rawLine: string): ScanLineVerdict | null {
  const text = trimGoSpace(rawLine)
  if (text === '') return null
  let r: LineScan
  if (text.startsWith('[')) {
    const frame = parseFrame(text)
    if (!Array.isArray(frame.value)) return {line: lineNo, id: null, clean: false, error: `invalid JSON batch: ${frame.error ?? 'not an array'}`}
    const parts = frame.value.map((el) => scanOne(o, goJson(el)))
    const matches = parts.flatMap((p) => p.matches)
    const tools = parts.flatMap((p) => p.tools)
    const failed = parts.some((p) => p.error !== undefined)
    r = {id: parts[0]?.id ?? null, matches, tools, ...(failed && matches.length === 0 && tools.length === 0 ? {error: 'one or more batch elements failed to parse'} : {})}
  } else {
    r = scanOne(o, text)
  }
  if (r.error !== undefined) return {line: lineNo, id: r.id, clean: false, error: r.error}
  if (r.matches.length === 0 && r.tools.length === 0) return {line: lineNo, id: r.id, clean: true}
  return {
    line: lineNo, id: r.id, clean: false,
    ...(r.matches.length > 0 ? {action: o.action, matches: r.matches} : {}),
    ...(r.tools.length > 0 ? {tool_action: o.toolAction, tools: r.tools} : {}),
  }
}

/** One compact JSON object (`--json`), fields in the reference's order. */
export function renderScanJson(v: ScanLineVerdict): string {
  const o: JsonObject = new Map()
  o.set('line', new RawJson(String(v.line)))
  o.set('id', new RawJson(v.id ?? 'null'))
  o.set('clean', v.clean)
  if (v.action !== undefined) o.set('action', v.action)
  if (v.matches !== undefined) {
    o.set('matches', v.matches.map((m) => new Map<string, string | RawJson>([
      ['pattern_name', m.pattern_name], ['match_text', m.match_text], ['position', new RawJson(String(m.position))],
    ])))
  }
  if (v.tool_action !== undefined) o.set('tool_action', v.tool_action)
  if (v.tools !== undefined) o.set('tools', v.tools.map((t) => new Map<string, string | string[]>([['tool', t.tool], ['findings', [...t.findings]]])))
  if (v.error !== undefined) o.set('error', v.error)
  return goJson(o)
}

/** Text mode: only non-clean lines; one line for the general scan, then one per poisoned tool. */
export function renderScanText(v: ScanLineVerdict): string | null {
  if (v.clean) return null
  if (v.error !== undefined) return `line ${v.line}: [ERROR] ${v.error}`
  const out: string[] = []
  if (v.matches !== undefined) {
    const names = [...new Set(v.matches.map((m) => m.pattern_name))]
    out.push(`line ${v.line}: [INJECTION] ${names.join(', ')} (action: ${v.action})`)
  }
  // The proxy's own wording for a poisoned definition (its stderr line `tool "<name>": …`).
  for (const t of v.tools ?? []) out.push(`line ${v.line}: [TOOL POISONING] tool "${t.tool}": ${t.findings.join(', ')} (action: ${v.tool_action})`)
  return out.join('\n')
}

