/**
 * Media policy on tool results (spec mcp.md §11.1): every `result.content[]` block's `data`,
 * `blob` and `raw` payloads (and those of embedded resources, `resources/read` contents, and the
 * messages of `prompts/get` results and of server `sampling/createMessage` requests) are decoded
 * and put through the proxy's media policy (injected by the transport layer, so there is one
 * media policy implementation).
 */
import type {JsonObject, JsonValue} from '../../canonical/index.js'
import {decodeBase64Variants} from '../../scanner/index.js'
import {isObject} from '../jsonrpc/frame.js'

export type MediaVerdict =
  | {readonly kind: 'pass'; readonly mediaType: string; readonly body: Buffer; readonly exposure: boolean}
  | {readonly kind: 'block'; readonly mediaType: string; readonly detail: string}

/** The shared media policy: content type hint ('' = sniff) and bytes → verdict. */
export type MediaCheck = (contentType: string, body: Buffer) => MediaVerdict

export type MediaResult =
  | {readonly kind: 'clean'}
  | {readonly kind: 'rewritten'}
  | {readonly kind: 'block'; readonly reason: string}

const PAYLOAD_FIELDS = ['data', 'blob', 'raw'] as const
const MEDIA_PREFIXES = ['image/', 'audio/', 'video/']

function hintOf(block: JsonObject): {hint: string; looksLikeMedia: boolean} {
  for (const k of ['mimeType', 'mediaType']) {
    const v = block.get(k)
    if (typeof v === 'string') {
      const t = v.split(';')[0]!.trim().toLowerCase()
      if (MEDIA_PREFIXES.some((p) => t.startsWith(p))) return {hint: t, looksLikeMedia: true}
    }
  }
  const type = block.get('type')
  if (type === 'audio') return {hint: 'audio/unknown', looksLikeMedia: true}
  if (type === 'video') return {hint: 'video/unknown', looksLikeMedia: true}
  return {hint: '', looksLikeMedia: type === 'image'}
}

/**
 * The objects of a message whose payloads are checked, with where they are: every `content[]`
 * block of the result, and [fix] the resource embedded in a block, every `contents[]` entry of a
 * `resources/read` result, and the content of every message of a `prompts/get` result or of a
 * server's `sampling/createMessage` params (an audio file there passed a policy that blocks an
 * `audio` block of a tool result).
 */
function payloadHolders(message: JsonObject): Array<{obj: JsonObject; at: string}> {
  const out: Array<{obj: JsonObject; at: string}> = []
  const blocks = (v: JsonValue | undefined, at: string): void => {
    const list = Array.isArray(v) ? v : isObject(v) ? [v] : []
    list.forEach((block, i) => {
      if (!isObject(block)) return
      const here = Array.isArray(v) ? `${at}[${i}]` : at
      out.push({obj: block, at: here})
      const resource = block.get('resource')
      if (isObject(resource)) out.push({obj: resource, at: `${here}.resource`})
    })
  }
  const messages = (v: JsonValue | undefined, at: string): void => {
    if (Array.isArray(v)) v.forEach((m, i) => isObject(m) && blocks(m.get('content'), `${at}[${i}].content`))
  }
  const result = message.get('result')
  if (isObject(result)) {
    const content = result.get('content')
    if (Array.isArray(content)) blocks(content, 'result.content')
    const contents = result.get('contents')
    if (Array.isArray(contents)) contents.forEach((entry, i) => void (isObject(entry) && out.push({obj: entry, at: `result.contents[${i}]`})))
    messages(result.get('messages'), 'result.messages')
  }
  const params = message.get('params')
  if (isObject(params)) messages(params.get('messages'), 'params.messages')
  return out
}

/** Applies the policy in place (metadata stripping rewrites the field as std base64). */
export function applyMediaToResult(message: JsonObject, check: MediaCheck): MediaResult {
  let rewritten = false
  for (const {obj: block, at} of payloadHolders(message)) {
    const {hint, looksLikeMedia} = hintOf(block)
    for (const field of PAYLOAD_FIELDS) {
      const v = block.get(field)
      if (typeof v !== 'string' || v === '') continue
      const decoded = decodeBase64Variants(v.trim()).find((d) => d.bytes.length > 0)
      if (decoded === undefined) {
        if (looksLikeMedia) return {kind: 'block', reason: `media_policy: invalid base64 in ${at}.${field}`}
        continue
      }
      const out = check(hint, decoded.bytes)
      if (out.kind === 'block') return {kind: 'block', reason: out.detail}
      const isMedia = MEDIA_PREFIXES.some((p) => out.mediaType.startsWith(p)) || out.mediaType === 'application/ogg'
      if (looksLikeMedia && !isMedia) return {kind: 'block', reason: `media_policy: unsupported media in ${at}.${field}`}
      if (out.body !== decoded.bytes && !out.body.equals(decoded.bytes)) {
        block.set(field, out.body.toString('base64'))
        rewritten = true
      }
    }
  }
  return rewritten ? {kind: 'rewritten'} : {kind: 'clean'}
}
