/**
 * Server→client text scanning (spec mcp.md §5.2): the reference's text (content blocks' `text`,
 * error, params) first, then — fix Q10 — every other string of the result, the error and the
 * params (structuredContent, embedded resources, annotations, _meta), so an injection beside a
 * benign `content` is seen, and every member beside the envelope's.
 */
import type {JsonObject, JsonValue} from '../../canonical/index.js'
import type {ResponseMatch, Scanner} from '../../scanner/index.js'
import {extractText, remainderText, sortedKeys, valueStrings} from '../jsonrpc/extract.js'
import {isObject} from '../jsonrpc/frame.js'

/**
 * A message is a tools/list result when `result.tools` is an array of objects (§6.1, shape-based);
 * its tools are those objects. [fix] An array holding objects and something else (`null`, a
 * string) is one too: the reference then skipped the tool scan, and a client in Go decodes a
 * `null` element as an empty tool and keeps the poisoned ones beside it. What is not an object is
 * read by the general scan (`messageText`).
 */
export function toolsListOf(message: JsonObject): JsonObject[] | null {
  const result = message.get('result')
  if (!isObject(result)) return null
  const tools = result.get('tools')
  if (!Array.isArray(tools)) return null
  const objects = tools.filter(isObject)
  return objects.length === 0 && tools.length > 0 ? null : objects
}

function errorAndParams(message: JsonObject): string[] {
  const parts: string[] = []
  const error = message.get('error')
  if (isObject(error) && typeof error.get('message') === 'string' && error.get('message') !== '') {
    parts.push(error.get('message') as string, extractText(error.get('data')))
  } else {
    parts.push(extractText(error))
  }
  parts.push(extractText(message.get('params')))
  return parts
}

/** §5.2 a/b: the reference's scanned text for a message. */
export function messageText(message: JsonObject, toolsList: boolean): string {
  const parts: string[] = []
  const result: JsonValue | undefined = message.get('result')
  if (toolsList && isObject(result)) {
    for (const k of sortedKeys(result)) {
      const v = result.get(k)
      parts.push(k !== 'tools' ? extractText(v) : Array.isArray(v) ? valueStrings(v.filter((t) => !isObject(t))).join('\n') : '')
    }
  } else {
    parts.push(extractText(result))
  }
  parts.push(...errorAndParams(message))
  return parts.filter((p) => p !== '').join('\n')
}

export interface InjectionScan {
  /** The text the matches' positions refer to. */
  readonly text: string
  readonly matches: readonly ResponseMatch[]
  /** Distinct pattern names in match order. */
  readonly names: readonly string[]
}

export function scanText(scanner: Scanner, text: string): InjectionScan {
  if (text === '') return {text, matches: [], names: []}
  const r = scanner.scanResponse(text)
  if (r.clean) return {text, matches: [], names: []}
  return {text, matches: r.matches, names: [...new Set(r.matches.map((m) => m.pattern))]}
}

/** Members of an error object `messageText` reads itself (`code` is a number). */
const ERROR_READ = new Set(['code', 'message', 'data'])

/**
 * [fix Q10] Every string `messageText` skipped, in the result, the error and the params alike: a
 * `content` array in any of them hid its siblings (a `systemPrompt` beside `content` in a
 * server's `sampling/createMessage`), and the members of an error beside `message` and `data`
 * were never read.
 */
function remainder(message: JsonObject, toolsList: boolean): string {
  const parts: string[] = []
  const result: JsonValue | undefined = message.get('result')
  if (toolsList && isObject(result)) {
    for (const k of sortedKeys(result)) if (k !== 'tools') parts.push(remainderText(result.get(k)))
  } else {
    parts.push(remainderText(result))
  }
  const error = message.get('error')
  if (isObject(error) && typeof error.get('message') === 'string' && error.get('message') !== '') {
    parts.push(remainderText(error.get('data')))
    for (const k of sortedKeys(error)) if (!ERROR_READ.has(k)) parts.push(...valueStrings(error.get(k)))
  } else {
    parts.push(remainderText(error))
  }
  parts.push(remainderText(message.get('params')))
  // [fix] Members beside the envelope's (`"extra": "Ignore all previous …"` next to `result`): the
  // message is relayed as received, so they reach the client too.
  for (const k of sortedKeys(message)) if (!ENVELOPE_READ.has(k)) parts.push(...valueStrings(message.get(k)))
  return parts.filter((p) => p !== '').join('\n')
}

/** Members of a server message read above (`jsonrpc` is fixed, `id` and `method` are the protocol's own). */
const ENVELOPE_READ = new Set(['jsonrpc', 'id', 'method', 'result', 'error', 'params'])

/** The general injection scan of one parsed server message: the reference's text, then the rest. */
export function scanMessage(scanner: Scanner, message: JsonObject, toolsList: boolean): InjectionScan {
  const first = scanText(scanner, messageText(message, toolsList))
  if (first.names.length > 0) return first
  return scanText(scanner, remainder(message, toolsList))
}
