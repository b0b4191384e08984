/**
 * RFC 9421 §2.5 signature base and RFC 9530 Content-Digest, shared by the signer and the
 * verifier (spec §11.1: one generic builder over `(lines, paramsText)`).
 */
import {createHash} from 'node:crypto'

/** `"<name>": <value>` + LF per component, then `"@signature-params": <params>` (no trailing LF). */
export function signatureBase(lines: ReadonlyArray<readonly [string, string]>, paramsText: string): string {
  let out = ''
  for (const [name, value] of lines) out += `"${name}": ${value}\n`
  return out + `"@signature-params": ${paramsText}`
}

/** RFC 9530 `sha-256=:<base64>:` of the bytes. */
export function contentDigest(body: Uint8Array): string {
  return `sha-256=:${createHash('sha256').update(body).digest('base64')}:`
}
