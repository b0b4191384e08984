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
  /** How many messages of the line were scanned (a batch counts its elements; one that failed to parse is not). Not rendered per line. */
  readonly messages: number
  /** How many tool definitions of the line went through the tool scan. Not rendered per line. */
  readonly toolDefinitions: number
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
  messages: number
  toolDefinitions: number
  error?: string
}

/** The tool scan of `mcp proxy` (response stage tool_scan) on each definition of a tools/list. */
function scanToolsList(toolScanner: ToolScanner | null, msg: JsonObject): {found: ScanToolFinding[]; scanned: number} {
  const tools = toolScanner === null ? null : toolsListOf(msg)
  if (tools === null || toolScanner === null) return {found: [], scanned: 0}
  const found: ScanToolFinding[] = []
  const defs = decodeTools(tools)
  for (const def of defs) {
    const {findings} = toolScanner.scanTool(def)
    if (findings.length > 0) found.push({tool: def.name === '' ? `#${def.index}` : def.name, findings})
  }
  return {found, scanned: defs.length}
}

function scanOne(o: ScanLineOptions, text: string): LineScan {
  const scanner = o.scanner
  const frame = parseFrame(text)
  const none = {matches: [], tools: [], messages: 0, toolDefinitions: 0}
  if (frame.value === undefined || (frame.error !== null && !frame.isBatch)) return {id: frame.id, ...none, error: frame.error ?? 'invalid JSON'}
  const msg = frame.value
  if (!isObject(msg)) return {id: null, ...none, error: 'invalid JSON: not an object'}
  const jsonrpc = msg.get('jsonrpc')
  if (jsonrpc !== '2.0') return {id: frame.id, ...none, error: `not a JSON-RPC 2.0 response: jsonrpc="${typeof jsonrpc === 'string' ? jsonrpc : ''}"`}
  const r = scanMessage(scanner, msg, false)
  const tools = scanToolsList(o.toolScanner, msg)
  return {
    id: frame.id,
    matches: r.matches.map((m) => ({pattern_name: m.pattern, match_text: matchText(scanner, r.text, m), position: m.position})),
    tools: tools.found,
    messages: 1,
    toolDefinitions: tools.scanned,
  }
}

export function scanServerLine(o: ScanLineOptions, lineNo: number, rawLine: string): ScanLineVerdict | null {
  const text = trimGoSpace(rawLine)
  if (text === '') return null
  let r: LineScan
  if (text.startsWith('[')) {
    const frame = parseFrame(text)
    if (!Array.isArray(frame.value)) return {line: lineNo, id: null, clean: false, error: `invalid JSON batch: ${frame.error ?? 'not an array'}`, messages: 0, toolDefinitions: 0}
    const parts = frame.value.map((el) => scanOne(o, goJson(el)))
    const matches = parts.flatMap((p) => p.matches)
    const tools = parts.flatMap((p) => p.tools)
    const failed = parts.some((p) => p.error !== undefined)
    const messages = parts.reduce((n, p) => n + p.messages, 0)
    const toolDefinitions = parts.reduce((n, p) => n + p.toolDefinitions, 0)
    r = {id: parts[0]?.id ?? null, matches, tools, messages, toolDefinitions, ...(failed && matches.length === 0 && tools.length === 0 ? {error: 'one or more batch elements failed to parse'} : {})}
  } else {
    r = scanOne(o, text)
  }
  const counts = {messages: r.messages, toolDefinitions: r.toolDefinitions}
  if (r.error !== undefined) return {line: lineNo, id: r.id, clean: false, error: r.error, ...counts}
  if (r.matches.length === 0 && r.tools.length === 0) return {line: lineNo, id: r.id, clean: true, ...counts}
  return {
    line: lineNo, id: r.id, clean: false, ...counts,
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


/** What a run of `mcp scan` checked, printed at the end of a run without findings. */
export interface ScanSummary {
  readonly messages: number
  readonly toolDefinitions: number
  /** The scans that ran: the general response scan, and the tool scan when the config enables it. */
  readonly scanners: readonly string[]
  /** Lines that were not JSON-RPC (reported as [ERROR] in their place): not scanned. */
  readonly unparsed: number
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** The scanners' names as printed in text mode. */
const SCANNER_TEXT: Readonly<Record<string, string>> = {response_injection: 'the response injection scan', tool_poisoning: 'the tool-poisoning scan'}

/** Text mode's last line: what was scanned, with which scans, and that nothing was found. */
export function renderSummaryText(s: ScanSummary): string {
  const what = `${count(s.messages, 'message', 'messages')} and ${count(s.toolDefinitions, 'tool definition', 'tool definitions')}`
  const scans = s.scanners.map((n) => SCANNER_TEXT[n] ?? n).join(' and ')
  const unparsed = s.unparsed > 0 ? `; ${count(s.unparsed, 'line', 'lines')} not scanned (not JSON-RPC)` : ''
  return `scanned ${what} with ${scans}: no injection or poisoned tool found${unparsed}`
}

/** `--json`'s last line: `{"summary":{…}}`, told apart from the per-line objects by its one key. */
export function renderSummaryJson(s: ScanSummary): string {
  const o: JsonObject = new Map()
  // clean: nothing found and every line scanned (a line that did not parse was not)
  o.set('clean', s.unparsed === 0)
  o.set('messages', new RawJson(String(s.messages)))
  o.set('tool_definitions', new RawJson(String(s.toolDefinitions)))
  o.set('scanners', [...s.scanners])
  o.set('unparsed_lines', new RawJson(String(s.unparsed)))
  return goJson(new Map([['summary', o]]))
}
