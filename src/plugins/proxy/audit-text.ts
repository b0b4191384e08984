/**
 * `logging.format: text` (operations.md §7.1): one human-readable line per audit event,
 * `TIME LVL MESSAGE key=value…`, for the stdout writer only (files stay JSON lines). Colour is
 * decided by the caller: only on a TTY and never with NO_COLOR set (the reference colours pipes
 * and journals too — a fix, docs/compatibility.md).
 */
import {compareUtf8, formatOffsetSeconds, strconvQuote} from '../canonical/index.js'

const ESC = '\x1b['
const RESET = `${ESC}0m`
const LEVELS: Readonly<Record<string, [string, string]>> = {
  info: ['INF', `${ESC}32m`], warn: ['WRN', `${ESC}33m`], error: ['ERR', `${ESC}31m`], debug: ['DBG', ''],
}
const ENVELOPE: ReadonlySet<string> = new Set(['level', 'time', 'message'])

export interface TextFormatOptions {
  readonly colour: boolean
  /** Minutes east of UTC at an instant (the local zone), injected for tests. */
  readonly offsetMinutes: (ms: number) => number
}

// Quoted when the string holds a byte < 0x20 or > 0x7E, a space, `\` or `"` (§7.1).
// eslint-disable-next-line no-control-regex
const NEEDS_QUOTE = /[^\x21-\x7e]|["\\]/

/** JSON with object keys sorted by byte order (arrays and objects in a text line). */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map((x) => (x === undefined ? 'null' : sortedJson(x))).join(',') + ']'
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort(compareUtf8)
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + sortedJson(o[k])).join(',') + '}'
  }
  return JSON.stringify(v) ?? 'null'
}

function value(v: unknown): string {
  if (typeof v === 'string') return NEEDS_QUOTE.test(v) ? strconvQuote(v) : v
  return sortedJson(v)
}

/** One text line (with `\n`) for an audit line object as the JSON writer would serialise it. */
export function formatTextLine(line: Readonly<Record<string, unknown>>, o: TextFormatOptions): string {
  const paint = (code: string, s: string): string => (o.colour && code !== '' ? code + s + RESET : s)
  const ms = Date.parse(String(line.time))
  const time = Number.isNaN(ms) ? String(line.time) : formatOffsetSeconds(BigInt(ms) * 1_000_000n, o.offsetMinutes(ms))
  const [lvl, lvlColour] = LEVELS[String(line.level)] ?? ['???', '']
  const parts = [paint(`${ESC}90m`, time), paint(lvlColour, lvl)]
  const message = typeof line.message === 'string' ? line.message : ''
  if (message !== '') parts.push(lvlColour !== '' && lvl !== 'DBG' ? paint(`${ESC}1m`, message) : message)
  const keys = Object.keys(line).filter((k) => !ENVELOPE.has(k) && line[k] !== undefined).sort(compareUtf8)
  const errorAt = keys.indexOf('error')
  if (errorAt > 0) keys.unshift(...keys.splice(errorAt, 1))
  for (const k of keys) {
    const v = value(line[k])
    parts.push(paint(`${ESC}36m`, `${k}=`) + (k === 'error' && o.colour ? `${ESC}31m${ESC}1m${v}${RESET}${RESET}` : v))
  }
  return parts.join(' ') + '\n'
}

/** The stdout writer for `logging.format: text`; `colour` only on a TTY without NO_COLOR. */
export function textWriter(stdout: {write(line: string): void}, colour: boolean, offsetMinutes: (ms: number) => number = (ms) => -new Date(ms).getTimezoneOffset()): {
  write(line: string): void
  format(line: Readonly<Record<string, unknown>>): string
} {
  return {write: (l) => stdout.write(l), format: (line) => formatTextLine(line, {colour, offsetMinutes})}
}
