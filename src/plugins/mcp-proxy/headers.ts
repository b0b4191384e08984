/**
 * `--header` / `--header-file` (spec mcp.md §2.4): extra upstream headers for the stdio→HTTP
 * bridge, validated so they can never set a transport-managed header or smuggle a line break.
 */
import {readFileSync, statSync} from 'node:fs'
import {isHttpToken} from '../canonical/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'

const RESERVED = new Set(['content-type', 'accept', 'mcp-session-id', 'content-length', 'transfer-encoding', 'host'])
/**
 * Accepted by the parser (as the reference's) but never sent: connection-level headers the HTTP
 * client manages per hop, and `Expect`, which undici refuses (every call would fail with an
 * opaque upstream error). Warned about at start (`droppedHeaderWarnings`), so none is dropped
 * silently.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade', 'expect'])
/** Dropped again at the transport (defence in depth; undici would otherwise honour some). */
export const TRANSPORT_MANAGED = new Set([...RESERVED, ...HOP_BY_HOP])

/** One start-up warning per parsed header the transport will not send. */
export function droppedHeaderWarnings(headers: ReadonlyArray<readonly [string, string]>): string[] {
  return headers
    .filter(([k]) => HOP_BY_HOP.has(k.toLowerCase()))
    .map(([k]) => `warning: --header "${k}: …": "${k}" is a connection-level header the MCP HTTP transport manages itself; it is not sent upstream`)
}

function isUnicodeSpace(cp: number): boolean {
  return cp === 0x85 || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
}

function usage(message: string): PipelockError {
  return new PipelockError('USAGE', message)
}

/** One `Key: Value` entry → [key, value], or a usage error worded as the reference's. */
export function parseHeaderEntry(entry: string): [string, string] {
  const colon = entry.indexOf(':')
  if (colon < 0) throw usage(`--header: expected 'Key: Value' format (the entry, ${entry.length} characters, is not shown: it may hold a secret)`)
  const key = entry.slice(0, colon).trim()
  // Header values are secrets (a bearer token): an error names the header, never its value.
  const named = `--header "${key}: …"`
  if (key === '') throw usage(`--header ": …": key is empty`)
  if (!isHttpToken(key)) throw usage(`${named}: key contains invalid characters`)
  const raw = entry.slice(colon + 1)
  for (const ch of raw) {
    const cp = ch.codePointAt(0)!
    if ((cp < 0x20 && cp !== 0x09) || cp === 0x7f || (cp > 0x7f && isUnicodeSpace(cp))) throw usage(`${named}: value contains invalid characters`)
  }
  const value = raw.replace(/^[ \t]+|[ \t]+$/g, '')
  if (RESERVED.has(key.toLowerCase())) throw usage(`${named}: "${key}" is managed by the MCP HTTP transport and cannot be overridden via --header`)
  return [key, value]
}

/** File entries first, then `--header` values; every value of a key is sent. */
export function parseHeaderFlags(entries: readonly string[], file: string | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = []
  if (file !== undefined) {
    let st
    try {
      st = statSync(file)
    } catch (err) {
      throw usage(`--header-file "${file}": ${osErrorReason(err)}`)
    }
    if (!st.isFile()) throw usage(`--header-file "${file}": not a regular file (mode=${(st.mode & 0o777).toString(8)})`)
    if ((st.mode & 0o037) !== 0) {
      throw usage(`--header-file "${file}": permissions 0${(st.mode & 0o777).toString(8)} reveal the header values to other users; restrict to 0600 or 0640`)
    }
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const t = line.trim()
      if (t === '' || t.startsWith('#')) return
      try {
        out.push(parseHeaderEntry(line))
      } catch (e) {
        // The reference's text names only the entry: say which file and line it came from, and
        // why a line that looks right is refused when the file was saved with CRLF endings.
        if (!(e instanceof PipelockError)) throw e
        const crlf = line.endsWith('\r') ? ' ends in a carriage return (CRLF line endings): save the file with LF line endings' : ''
        throw new PipelockError(e.code, e.message, {hint: `line ${i + 1} of --header-file ${file}${crlf}`})
      }
    })
  }
  for (const e of entries) out.push(parseHeaderEntry(e))
  return out
}
