/**
 * `pipelock mcp scan` (spec mcp.md §13): one verdict per non-blank line of server output, with the
 * general scan of §5.2 (no tool scanning, media policy or tracker). Pure: the command feeds lines.
 */
import {goJson, RawJson, type JsonObject} from '../../canonical/index.js'
import {foldVowels, leetspeak, replaceInvisibleWithSpace, type ResponseMatch, type Scanner} from '../../scanner/index.js'
import {isObject, parseFrame, trimGoSpace} from '../jsonrpc/frame.js'
import {scanMessage} from './response.js'

export interface ScanMatch {
  readonly pattern_name: string
  readonly match_text: string
  readonly position: number
}

export interface ScanLineVerdict {
  readonly line: number
  /** Raw JSON id text, or null. */
  readonly id: string | null
  readonly clean: boolean
  readonly action?: string
  readonly matches?: readonly ScanMatch[]
  readonly error?: string
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

function scanOne(scanner: Scanner, text: string): {id: string | null; matches: ScanMatch[]; error?: string} {
  const frame = parseFrame(text)
  if (frame.value === undefined || (frame.error !== null && !frame.isBatch)) return {id: frame.id, matches: [], error: frame.error ?? 'invalid JSON'}
  const msg = frame.value
  if (!isObject(msg)) return {id: null, matches: [], error: 'invalid JSON: not an object'}
  const jsonrpc = msg.get('jsonrpc')
  if (jsonrpc !== '2.0') return {id: frame.id, matches: [], error: `not a JSON-RPC 2.0 response: jsonrpc="${typeof jsonrpc === 'string' ? jsonrpc : ''}"`}
  const r = scanMessage(scanner, msg, false)
  return {id: frame.id, matches: r.matches.map((m) => ({pattern_name: m.pattern, match_text: matchText(scanner, r.text, m), position: m.position}))}
}

export function scanServerLine(scanner: Scanner, lineNo: number, rawLine: string, action: string): ScanLineVerdict | null {
  const text = trimGoSpace(rawLine)
  if (text === '') return null
  let r: {id: string | null; matches: ScanMatch[]; error?: string}
  if (text.startsWith('[')) {
    const frame = parseFrame(text)
    if (!Array.isArray(frame.value)) return {line: lineNo, id: null, clean: false, error: `invalid JSON batch: ${frame.error ?? 'not an array'}`}
    const parts = frame.value.map((el) => scanOne(scanner, goJson(el)))
    const matches = parts.flatMap((p) => p.matches)
    const failed = parts.some((p) => p.error !== undefined)
    r = {id: parts[0]?.id ?? null, matches, ...(failed && matches.length === 0 ? {error: 'one or more batch elements failed to parse'} : {})}
  } else {
    r = scanOne(scanner, text)
  }
  if (r.error !== undefined) return {line: lineNo, id: r.id, clean: false, error: r.error}
  if (r.matches.length === 0) return {line: lineNo, id: r.id, clean: true}
  return {line: lineNo, id: r.id, clean: false, action, matches: r.matches}
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
  if (v.error !== undefined) o.set('error', v.error)
  return goJson(o)
}

/** Text mode: only non-clean lines. */
export function renderScanText(v: ScanLineVerdict): string | null {
  if (v.clean) return null
  if (v.error !== undefined) return `line ${v.line}: [ERROR] ${v.error}`
  const names = [...new Set((v.matches ?? []).map((m) => m.pattern_name))]
  return `line ${v.line}: [INJECTION] ${names.join(', ')} (action: ${v.action})`
}

