/**
 * The outbound payload of a request as cross-request detection sees it (operations §5.3): a
 * `values` stream and a `keys` stream, plus each value with its field name for the per-field
 * tails (`field-tails.ts`). The URL path is never included; CONNECT records nothing.
 */
import {goUnescape, JsonNumber, parseContentType, type JsonValue} from '../canonical/index.js'
import {extractJsonParts, jsonMessageParts} from '../scanner/index.js'

/** A value with the name of the field that carried it (query or form key, JSON member path). */
export type CeeField = readonly [name: string, value: string]

export interface CeePayload {
  /** Query values in wire order (bare items whole), decoded, no separator; then at most 64 KiB of the body (`bodyStreams`). */
  readonly values: string
  /** Decoded keys of `k=v` items, no separator (bare items excluded). */
  readonly keys: string
  /**
   * The values by field, in wire order: query items (a bare item under the name `''`), then a
   * form body's items or a JSON body's string values by member path. Absent: none.
   */
  readonly fields?: readonly CeeField[]
}

/** How much of a request body joins the values stream (§5.3). */
export const BODY_PREFIX_BYTES = 64 * 1024

/** The raw query of an absolute or origin-form URL (`''` without one); a `#fragment` is not sent. */
export function rawQueryOf(url: string): string {
  const q = url.indexOf('?')
  if (q < 0) return ''
  const h = url.indexOf('#', q)
  return h < 0 ? url.slice(q + 1) : url.slice(q + 1, h)
}

/**
 * Split on `&` only (`;` is not a separator); empty items skipped; each part Go-`QueryUnescape`d
 * (the raw text when the escape is malformed).
 */
export function extractPayload(url: string, body?: Buffer | null, contentType?: string): CeePayload {
  const q = rawQueryOf(url)
  const {values, keys} = queryStreams(q)
  const qf = queryFields(q)
  if (body === undefined || body === null || body.length === 0) return qf.length === 0 ? {values, keys} : {values, keys, fields: qf}
  const b = bodyStreams(body, contentType)
  const fields = b.fields === undefined ? qf : qf.length === 0 ? b.fields : [...qf, ...b.fields]
  const joined = {values: [values, b.values].join(''), keys: b.keys === '' ? keys : [keys, b.keys].join('')}
  return fields.length === 0 ? joined : {...joined, fields}
}

/** The query's items as fields: each decoded value under its decoded key (`''` for a bare item); empty items skipped. */
export function queryFields(q: string): CeeField[] {
  const out: CeeField[] = []
  if (q === '') return out
  const plain = !q.includes('%') && !q.includes('+')
  for (const item of q.split('&')) {
    if (item === '') continue
    const eq = item.indexOf('=')
    const k = eq < 0 ? '' : item.slice(0, eq)
    const v = eq < 0 ? item : item.slice(eq + 1)
    out.push(plain ? [k, v] : [goUnescape(k, true) ?? k, goUnescape(v, true) ?? v])
  }
  return out
}

function queryStreams(q: string): CeePayload {
  return q.includes('%') || q.includes('+') ? queryItemwise(q) : (queryPlainBytes(q) ?? queryPlain(q))
}

/** The media types read as JSON (as the body scanner reads them: `application/json` and every `+json`). */
function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json')
}

/**
 * What a body adds to the streams, at most BODY_PREFIX_BYTES to each. Syntax between two pieces
 * of a key would keep them apart (`{"a":"AKIA…"}` then `{"a":"…"}`), so a form body is read as a
 * query (values and keys, decoded) and a JSON body gives its string values in document order,
 * as the body scanner's split-secret pass reads them; any other body, or JSON that does not
 * parse, its raw text.
 */
export function bodyStreams(body: Buffer, contentType?: string): CeePayload {
  const type = contentType === undefined ? '' : parseContentType(contentType).type
  // A form is cut before parsing: its items are read like a query's, so a prefix is a prefix of the values.
  if (type === 'application/x-www-form-urlencoded') {
    const form = body.subarray(0, BODY_PREFIX_BYTES).toString('utf8')
    return {...queryStreams(form), fields: queryFields(form)}
  }
  if (isJsonType(type)) {
    try {
      // A JSON prefix does not parse: the whole body is read (the body stage read it whole too).
      const parts = extractJsonParts(body.toString('utf8'), true)
      return {values: utf8Prefix(parts.values.join(''), BODY_PREFIX_BYTES), keys: '', fields: parts.fields}
    } catch {
      // Not JSON after all (or nested too deeply): its text, as for any other type.
    }
  }
  return {values: body.subarray(0, BODY_PREFIX_BYTES).toString('utf8'), keys: ''}
}

/** The first `max` UTF-8 bytes of `s`, decoded as the raw body's prefix is. */
function utf8Prefix(s: string, max: number): string {
  if (s.length * 3 <= max) return s
  const b = Buffer.from(s, 'utf8')
  return b.length <= max ? s : b.subarray(0, max).toString('utf8')
}

/**
 * Per item (after its `&`, or at the start): the `key=` up to its first `=` when it has one, and
 * the value (group 1; a bare item is all value). `&` is tried before `^`: an empty match at the
 * start would otherwise step over a leading `&`. Every character of the query is in some match.
 */
const VALUE_ONLY = /(?:&|^)(?:[^&=]*=)?([^&]*)/g
/** Per item: its key (group 1) when it has a `=`, else nothing; the rest of the item is dropped. */
const KEY_ONLY = /(?:&|^)([^&=]*)=[^&]*|&?[^&]*/g

/**
 * A query with no `%` and no `+`: every `goUnescape` is the identity, so the streams are the
 * query with the item structure removed — two regex replaces, each one pass building one flat
 * string (the item-wise split allocated ≈ 20 KB for a 2 KiB query: an array, every item and
 * its key and value; a third of `admit`'s garbage). Equal to `queryItemwise` on such queries
 * (`payload.test`).
 */
export function queryPlain(q: string): CeePayload {
  if (q === '') return {values: '', keys: ''}
  // A `$1` replacement builds one flat string (a replacement by '' gave a rope of the pieces).
  return {values: q.replace(VALUE_ONLY, '$1'), keys: q.replace(KEY_ONLY, '$1')}
}

/** Reused by `queryPlainBytes` (values at 0, keys at the query's length); larger queries get their own. */
let scratch = Buffer.allocUnsafe(8192)
const SCRATCH_KEEP = 64 * 1024

/**
 * `queryPlain` in one walk writing both streams into a reused byte scratch, each read out once
 * as a flat Latin-1 string: the two `replace`s allocated ≈ 3× their results (≈ 6.4 KB at a
 * 2 KiB query; a fifth of `admit`'s garbage). An item's units go to the values stream until its
 * first `=`, then are moved to the keys stream. Null when a unit is above U+00FF (not one byte;
 * the caller takes `queryPlain`). Equal to `queryPlain` (`payload.test`).
 */
export function queryPlainBytes(q: string): CeePayload | null {
  const n = q.length
  if (n === 0) return {values: '', keys: ''}
  const buf = 2 * n <= scratch.length ? scratch : 2 * n <= SCRATCH_KEEP ? (scratch = Buffer.allocUnsafe(SCRATCH_KEEP)) : Buffer.allocUnsafe(2 * n)
  let nv = 0
  let nk = n
  let itemStart = 0
  let keyed = false
  for (let i = 0; i < n; i++) {
    const c = q.charCodeAt(i)
    if (c > 0xff) return null
    if (c === 0x26) {
      itemStart = nv
      keyed = false
    } else if (c === 0x3d && !keyed) {
      // The item's units so far are its key (a loop: `Buffer.copy` makes a view per call).
      for (let j = itemStart; j < nv; j++) buf[nk++] = buf[j]!
      nv = itemStart
      keyed = true
    } else buf[nv++] = c
  }
  return {values: buf.toString('latin1', 0, nv), keys: buf.toString('latin1', n, nk)}
}

/** The general path (and the oracle of `queryPlain`): item by item, each part unescaped. */
export function queryItemwise(q: string): CeePayload {
  // Parts joined once: a string grown by `+=` is a rope of every item, and each character read
  // of a rope (the entropy count, the DLP passes) walked it — 4× slower on a 2 KiB query.
  const values: string[] = []
  const keys: string[] = []
  if (q !== '') {
    for (const item of q.split('&')) {
      if (item === '') continue
      const eq = item.indexOf('=')
      if (eq < 0) {
        values.push(goUnescape(item, true) ?? item)
        continue
      }
      const k = item.slice(0, eq)
      const v = item.slice(eq + 1)
      values.push(goUnescape(v, true) ?? v)
      keys.push(goUnescape(k, true) ?? k)
    }
  }
  return {values: values.join(''), keys: keys.join('')}
}

/** What a parsed JSON message (an MCP tool call's arguments) gives cross-request detection. */
export interface JsonStreams {
  /** String values, in the order the message holds them, joined (numbers go to `fields` only). */
  readonly values: string
  /** Object member names, in the same order, joined. */
  readonly keys: string
  /** Each string value and number (as sent) with its member path (names joined by `.`, no array indexes). */
  readonly fields: CeeField[]
}

type Walk = {readonly v: JsonValue; readonly path: string} | {readonly key: string}

/**
 * The streams of a parsed JSON value. A number is what the receiver reads digit by digit, so it
 * is a piece of a split card number as much as a string is (`{"n":41111111}` then
 * `{"n":11111111}`): it joins its own field's tail (field-tails.ts, where a counter's steps are
 * told apart), not the joined values stream, where the numbers of unrelated fields and every
 * page of a paging loop (`{"id":4028}`, `{"id":4029}`, …) would read as one long digit run that
 * the card pattern's checks accept about one time in ten. Member names are data too
 * (`{"AKIA…":1}` then `{"…":1}`).
 */
export function jsonStreams(v: JsonValue | undefined): JsonStreams {
  const values: string[] = []
  const keys: string[] = []
  const fields: CeeField[] = []
  // An explicit stack, not recursion: the MCP frame parser accepts deeper nesting than the call stack should take.
  const stack: Walk[] = v === undefined ? [] : [{v, path: ''}]
  while (stack.length > 0) {
    const w = stack.pop()!
    if ('key' in w) {
      keys.push(w.key)
      continue
    }
    const {v: x, path} = w
    if (typeof x === 'string' || x instanceof JsonNumber) {
      const text = typeof x === 'string' ? x : x.text
      if (typeof x === 'string') values.push(text)
      fields.push([path, text])
    } else if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) stack.push({v: x[i]!, path})
    } else if (x instanceof Map) {
      const members = [...x]
      // Pushed in reverse, each value before its name: popped as sent, the name first.
      for (let i = members.length - 1; i >= 0; i--) {
        const [name, m] = members[i]!
        stack.push({v: m, path: path === '' ? name : `${path}.${name}`}, {key: name})
      }
    }
  }
  return {values: values.join(''), keys: keys.join(''), fields}
}

/**
 * A WebSocket text message's string values and numbers by member path, when it is JSON (an object, an
 * array or a string); undefined for anything else (invalid or too deeply nested JSON is text).
 */
export function jsonTextFields(text: string): readonly CeeField[] | undefined {
  return jsonMessageParts(text)?.fields
}
