import {goTrimSpace, goUnescape, isHttpToken, parseContentType} from '../canonical/index.js'

// Method overrides: a request whose line says POST can ask the server to perform another method
// through a header (`X-HTTP-Method-Override` and two other spellings) or a `_method` parameter
// (query string or form body). Rails, Laravel, Symfony, Spring and Express's method-override
// middleware perform it. A contract that allows `POST /items/7` but not `DELETE /items/7` would
// otherwise let the DELETE through, so the evaluator judges every method a request names. The
// reference implementation reads the request line only (docs/compatibility.md).

/** The header spellings frameworks read (lower case, as node:http gives them). */
export const METHOD_OVERRIDE_HEADERS: readonly string[] = ['x-http-method-override', 'x-http-method', 'x-method-override']

/** The header a capture record writes the overrides under, whatever spelled them (learn shadow reads it back). */
export const CAPTURED_OVERRIDE_HEADER = 'x-http-method-override'

/**
 * What an override that is not a method token stands for: no rule can name it (compile learns
 * methods from request lines, which HTTP parsers accept only as tokens), so it is always denied,
 * and its text (which could be anything the agent sent) is never written into evidence.
 */
export const INVALID_OVERRIDE = '(invalid)'

const PARAM = '_method'
/** An override is an RFC 9110 token of at most this many characters: every real method, and nothing a secret hides in for long. */
const MAX_METHOD_CHARS = 32
const FORM_TYPE = 'application/x-www-form-urlencoded'

/** Where overrides can be read from: the request's headers, its URL, and (when read) its body. */
export interface OverrideSources {
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined
  readonly url?: string | undefined
  /** The body's type; default: the `content-type` of `headers`. */
  readonly contentType?: string | undefined
  readonly body?: Uint8Array | null | undefined
}

/**
 * The methods a request names besides `method` (its request line): each override header's
 * values (comma-separated lists too), every `_method` in the query string and in a form body
 * (urlencoded or multipart), upper-cased as rules' methods are; a value that is not a method
 * token becomes `INVALID_OVERRIDE`. Sorted, without repeats, without `method` itself; empty for
 * the ordinary request.
 */
export function methodOverrides(method: string, s: OverrideSources): string[] {
  const found = new Set<string>()
  const add = (raw: string): void => {
    const v = goTrimSpace(raw)
    if (v === '') return
    found.add(v.length <= MAX_METHOD_CHARS && isHttpToken(v) ? v.toUpperCase() : INVALID_OVERRIDE)
  }
  if (s.headers !== undefined) {
    for (const name of METHOD_OVERRIDE_HEADERS) {
      const v = s.headers[name]
      if (v === undefined) continue
      for (const one of typeof v === 'string' ? [v] : v) for (const part of one.split(',')) add(part)
    }
  }
  if (s.url !== undefined) {
    // The fragment is never sent: a `?` after the `#` starts no query.
    const hash = s.url.indexOf('#')
    const sent = hash < 0 ? s.url : s.url.slice(0, hash)
    const q = sent.indexOf('?')
    if (q >= 0) formValues(sent.slice(q + 1), add)
  }
  const type = s.contentType ?? firstValue(s.headers?.['content-type'])
  if (s.body != null && s.body.length > 0 && type !== undefined) bodyValues(type, s.body, add)
  found.delete(goTrimSpace(method).toUpperCase())
  return [...found].sort()
}

function firstValue(v: string | readonly string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : v?.[0]
}

/**
 * `_method` values of an urlencoded text (query or form): pairs split on `&` and `;`, `+` as
 * space, names percent-decoded (`%5Fmethod` is `_method` to the server). Only a name holding `%`
 * or `+` is decoded: the ordinary query costs a split and a comparison per pair.
 */
function formValues(text: string, add: (v: string) => void): void {
  for (const pair of text.split(/[&;]/)) {
    const eq = pair.indexOf('=')
    const raw = eq < 0 ? pair : pair.slice(0, eq)
    const key = raw.includes('%') || raw.includes('+') ? decodeForm(raw) : raw
    if (key === PARAM) add(eq < 0 ? '' : decodeForm(pair.slice(eq + 1)))
  }
}

/** Form decoding (Go's `QueryUnescape`); a malformed escape is kept as written, the way lenient servers read it. */
function decodeForm(s: string): string {
  return goUnescape(s, true) ?? s
}

function bodyValues(contentType: string, body: Uint8Array, add: (v: string) => void): void {
  const {type} = parseContentType(contentType)
  if (type !== FORM_TYPE && type !== 'multipart/form-data') return
  // A byte search first: the ordinary body (no `_method` anywhere, nor an escape that could
  // spell it in a form) costs one or two native scans.
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (type === FORM_TYPE) {
    if (bytes.includes(PARAM) || bytes.includes('%')) formValues(bytes.toString('latin1'), add)
  } else if (bytes.includes(PARAM)) multipartValues(bytes.toString('latin1'), add)
}

/**
 * `_method` parts of a multipart body: a part whose Content-Disposition names `_method`; its
 * value runs to the next line that starts a boundary. Read line by line on the raw text, without
 * the boundary: any part so named counts, so a body cannot hide one behind framing this reader
 * and the server see differently. One pass over the lines (no regex over the agent's bytes).
 */
function multipartValues(text: string, add: (v: string) => void): void {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
  for (let i = 0; i < lines.length; i++) {
    if (!namesMethodPart(lines[i]!)) continue
    // The part's remaining header lines, up to the blank line; then the value, up to a boundary.
    let j = i + 1
    while (j < lines.length && lines[j] !== '') j++
    const value: string[] = []
    for (j++; j < lines.length && !lines[j]!.startsWith('--'); j++) value.push(lines[j]!)
    add(value.join('\n'))
    i = j - 1
  }
}

/** Whether a header line is a Content-Disposition whose `name` parameter is `_method` (quoted or not). */
function namesMethodPart(line: string): boolean {
  const colon = line.indexOf(':')
  if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') return false
  return parseContentType(line.slice(colon + 1)).params.some(([k, v]) => k === 'name' && v === PARAM)
}
