import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {decodeGoHex} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {goErrnoText, readFailureCode} from './go-fmt.js'
import {refuseSpecialFile} from './input-file.js'

// Versioned key text formats (learn-lifecycle.md §8.3, receipts.md §2): a header line, then the
// standard padded base64 of the raw key, each line `\n`-terminated.

export const PUBLIC_KEY_HEADER = 'pipelock-ed25519-public-v1'
export const PRIVATE_KEY_HEADER = 'pipelock-ed25519-private-v1'

export function encodePublicKeyText(pub: Uint8Array): string {
  if (pub.length !== 32) throw new RangeError(`invalid public key length: got ${pub.length}, want 32`)
  return `${PUBLIC_KEY_HEADER}\n${Buffer.from(pub).toString('base64')}\n`
}

/** `priv` is Go's 64-byte form: seed ‖ public. */
export function encodePrivateKeyText(priv: Uint8Array): string {
  if (priv.length !== 64) throw new RangeError(`invalid private key length: got ${priv.length}, want 64`)
  return `${PRIVATE_KEY_HEADER}\n${Buffer.from(priv).toString('base64')}\n`
}

const TRIM = /^[\s]+|[\s]+$/g

/** Go base64.StdEncoding.DecodeString: strict alphabet and padding; CR/LF are skipped. */
function decodeStdBase64(s: string): Buffer {
  const clean = s.replace(/[\r\n]/g, '')
  const bad = clean.search(/[^A-Za-z0-9+/=]/)
  if (bad >= 0) throw new Error(`illegal base64 data at input byte ${bad}`)
  if (!/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(clean) || clean.length % 4 !== 0) {
    throw new Error(`illegal base64 data at input byte ${Math.max(0, clean.indexOf('=') >= 0 ? clean.indexOf('=') : clean.length)}`)
  }
  return Buffer.from(clean, 'base64')
}

function decodeVersioned(text: string, header: string, want: number, kind: 'public' | 'private'): Buffer {
  const trimmed = text.replace(TRIM, '')
  const nl = trimmed.indexOf('\n')
  const first = (nl < 0 ? trimmed : trimmed.slice(0, nl)).replace(/\r$/, '')
  if (nl < 0 || first !== header) {
    // The text is the reference's (learn-lifecycle.md §8.3); the hint says what was found.
    const hint = foundKeyHint(trimmed, kind)
    throw new PipelockError('KEY_INVALID', `invalid ${kind} key format (expected ${header} header)`, hint === undefined ? {} : {hint})
  }
  let raw: Buffer
  try {
    raw = decodeStdBase64(trimmed.slice(nl + 1).replace(TRIM, ''))
  } catch (e) {
    throw new PipelockError('KEY_INVALID', `invalid ${kind} key encoding: ${(e as Error).message}`)
  }
  if (raw.length !== want) throw new PipelockError('KEY_INVALID', `invalid ${kind} key length: got ${raw.length}, want ${want}`)
  return raw
}

export type KeyTextKind = 'public' | 'private' | 'json-key-file'

/**
 * Which of the project's key formats text is in, if any: refusals that would only name the
 * header they expected say what they found instead (a private key or a JSON key file given where
 * a public key belongs). Only the kind is returned, never any of the content.
 */
export function keyTextKind(text: string): KeyTextKind | undefined {
  const t = text.replace(TRIM, '')
  if (t.startsWith(PRIVATE_KEY_HEADER)) return 'private'
  if (t.startsWith(PUBLIC_KEY_HEADER)) return 'public'
  if (t.startsWith('{') && /"private"\s*:/.test(t) && /"purpose"\s*:/.test(t)) return 'json-key-file'
  return undefined
}

const KIND_TEXT: Record<KeyTextKind, string> = {
  public: `a public key (${PUBLIC_KEY_HEADER})`,
  private: `a private key (${PRIVATE_KEY_HEADER})`,
  'json-key-file': 'a JSON deployment key file (pipelock signing key generate)',
}

/**
 * The hint of a format refusal: what was found where a `want` key was expected, and what to pass
 * instead; undefined when the text is in none of the project's formats, or in the expected one.
 */
export function foundKeyHint(text: string, want: 'public' | 'private', hexAccepted = false): string | undefined {
  const kind = keyTextKind(text)
  if (kind === undefined || kind === want) return undefined
  const found = `found ${KIND_TEXT[kind]} where a ${want} key is expected`
  if (want === 'private') {
    return kind === 'public'
      ? `${found}: pass the private key file (keygen writes it beside the .pub, as id_ed25519)`
      : `${found}: this needs a ${PRIVATE_KEY_HEADER} key; make one with pipelock keygen NAME`
  }
  if (kind === 'private') return `${found}: pass its public half, the .pub file keygen wrote beside it`
  return `${found}: pass a ${PUBLIC_KEY_HEADER} file (keygen's id_ed25519.pub)${hexAccepted ? ', or the key file\'s "public" value (64 hex)' : ''}`
}

/** Decodes `pipelock-ed25519-public-v1` text into the 32-byte key. */
export function decodePublicKeyText(text: string): Buffer {
  return decodeVersioned(text, PUBLIC_KEY_HEADER, 32, 'public')
}

/** Decodes `pipelock-ed25519-private-v1` text into Go's 64-byte private key. */
export function decodePrivateKeyText(text: string): Buffer {
  return decodeVersioned(text, PRIVATE_KEY_HEADER, 64, 'private')
}

export interface PublicKeyValue {
  /** Lowercase hex of the 32 bytes. */
  hex: string
  bytes: Buffer
  /** The file the key was read from (loadPublicKey), absent for a key given inline. */
  file?: string
}

/**
 * Parses key text that is either the versioned format or raw hex (whitespace trimmed). Versioned
 * text reports its own format/length errors; hex that decodes but has the wrong size reports its
 * length; anything else is `invalid public key: invalid public key format (…)` (receipts.md §11.1).
 */
export function parsePublicKeyValue(text: string): PublicKeyValue {
  const trimmed = text.replace(TRIM, '')
  if (trimmed.startsWith(PUBLIC_KEY_HEADER)) {
    const bytes = decodePublicKeyText(trimmed)
    return {hex: bytes.toString('hex'), bytes}
  }
  let bytes: Buffer
  try {
    bytes = decodeGoHex(trimmed)
  } catch {
    // The text is the reference's (receipts.md §11.1); the hint says what was found.
    const hint = foundKeyHint(trimmed, 'public', true)
    throw new PipelockError('KEY_INVALID', `invalid public key: invalid public key format (expected ${PUBLIC_KEY_HEADER} header)`, hint === undefined ? {} : {hint})
  }
  if (bytes.length !== 32) throw new PipelockError('KEY_INVALID', `invalid public key length: got ${bytes.length}, want 32`)
  return {hex: bytes.toString('hex'), bytes}
}

/** Whether an argument that is not an existing file should be reported as a missing file. */
export function looksLikePath(p: string): boolean {
  return p.includes('/') || p.includes('\\') || p.startsWith('.') || path.extname(p) !== ''
}

/**
 * `LoadPublicKey(pathOrValue)` (learn-lifecycle.md §8.3, receipts.md §11.1): an existing file is
 * read and parsed as versioned text or raw hex; a missing path-looking argument is
 * `reading public key file <p>: file does not exist`; anything else is parsed as the key itself.
 * Used by `verify-receipt --key` and `--contract-key`.
 */
export function loadPublicKey(pathOrValue: string): PublicKeyValue {
  if (pathOrValue === '') throw new PipelockError('KEY_INVALID', 'public key is empty')
  if (existsSync(pathOrValue)) {
    refuseSpecialFile(pathOrValue, 'public key file')
    let text: string
    try {
      text = readFileSync(pathOrValue, 'utf8')
    } catch (e) {
      throw new PipelockError('FILE_UNREADABLE', `reading public key file ${pathOrValue}: ${goErrnoText(e)}`)
    }
    return {...parsePublicKeyValue(text), file: pathOrValue}
  }
  if (looksLikePath(pathOrValue)) {
    throw new PipelockError('FILE_NOT_FOUND', `reading public key file ${pathOrValue}: file does not exist`)
  }
  return parsePublicKeyValue(pathOrValue)
}

/** Largest file accepted by `--*-pubkey-file` (a 64-hex key plus whitespace). */
export const HEX_KEY_FILE_CAP = 4096

/**
 * The ceremony CLIs' key arguments: exactly one of an inline 64-hex key (`--<flag>`) or a file
 * holding one (`--<flag>-file`, at most 4096 bytes, whitespace trimmed). Returns the 32 bytes.
 * With `acceptKeyText` the file may also be a `pipelock-ed25519-public-v1` file (keygen's .pub);
 * without it (recovery verify, whose spec fixes the file as 64 hex) such a file is refused by name.
 * Errors name the flag the key came through.
 */
export function hexPublicKeyFromFlags(
  flag: string,
  inline: string | undefined,
  file: string | undefined,
  options: {acceptKeyText?: boolean} = {},
): Buffer {
  if ((inline === undefined) === (file === undefined)) {
    throw new PipelockError('USAGE', `exactly one of --${flag} or --${flag}-file is required`)
  }
  if (file === undefined) return hexKey(`--${flag}`, (inline ?? '').replace(TRIM, ''))
  refuseSpecialFile(file, `--${flag}-file`)
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (e) {
    throw new PipelockError(readFailureCode(e), `reading --${flag}-file ${file}: ${goErrnoText(e)}`)
  }
  if (data.length > HEX_KEY_FILE_CAP) {
    throw new PipelockError('KEY_INVALID', `--${flag}-file ${file} exceeds size cap: got ${data.length} bytes, max ${HEX_KEY_FILE_CAP}`)
  }
  const text = data.toString('utf8').replace(TRIM, '')
  const label = `--${flag}-file ${file}`
  const expected = options.acceptKeyText ? `64 hex characters or a ${PUBLIC_KEY_HEADER} file (keygen's .pub)` : '64 hex characters'
  const kind = keyTextKind(text)
  if (kind === 'public') {
    if (!options.acceptKeyText) {
      throw new PipelockError('KEY_INVALID', `${label} is ${KIND_TEXT.public}; this flag takes the key as 64 hex characters`)
    }
    try {
      return decodePublicKeyText(text)
    } catch (e) {
      throw new PipelockError('KEY_INVALID', `${label}: ${(e as Error).message}`)
    }
  }
  if (kind !== undefined) {
    const hint = kind === 'json-key-file' ? {hint: `pass the file's "public" value: --${flag} <64 hex>`} : {}
    throw new PipelockError('KEY_INVALID', `${label} is ${KIND_TEXT[kind]}, not a public key: expected ${expected}`, hint)
  }
  return hexKey(label, text, expected)
}

/** 64 hex characters → 32 bytes; errors start with `label` (the flag, and the file if any). */
function hexKey(label: string, text: string, expected = '64 hex characters'): Buffer {
  let bytes: Buffer
  try {
    bytes = decodeGoHex(text)
  } catch (e) {
    throw new PipelockError('KEY_INVALID', `${label}: invalid hex: ${(e as Error).message}`, {hint: `the key is expected as ${expected}`})
  }
  if (bytes.length !== 32) throw new PipelockError('KEY_INVALID', `${label}: invalid public key length: got ${bytes.length}, want 32`)
  return bytes
}
