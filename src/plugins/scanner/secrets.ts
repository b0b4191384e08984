/** Environment and file secrets (§5.9): harvesting, the secrets file, and encoded-literal search. */
import {readFileSync, statSync} from 'node:fs'
import {overCapReason, parseSecretsFile, SECRETS_FILE_MAX, type ParsedSecretsFile} from '../config/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {shannonEntropy, utf8Length} from './entropy.js'
import {needlesAbsent} from './needle-screen.js'

const ENV_SKIP = new Set(
  (
    'PWD OLDPWD HOME PATH TMPDIR TEMP TMP _ USER LOGNAME USERNAME HOSTNAME HOST SHELL SHLVL TERM TERM_PROGRAM ' +
    'COLORTERM COLORFGBG LANG LANGUAGE DISPLAY WAYLAND_DISPLAY EDITOR VISUAL PAGER LESS LS_COLORS LSCOLORS ' +
    'DBUS_SESSION_BUS_ADDRESS SSH_AUTH_SOCK GOPATH GOROOT GOBIN PYTHONPATH PYTHONHOME NODE_PATH MANPATH INFOPATH ' +
    'PS1 PS2 PS3 PS4 USERPROFILE APPDATA LOCALAPPDATA PROGRAMFILES PROGRAMDATA SYSTEMROOT WINDIR COMSPEC ' +
    'COMPUTERNAME PATHEXT SESSIONNAME'
  ).split(' '),
)

/** Env vars that become literal secrets: not skipped, ≥ minLength bytes, entropy > 3.0. */
export function collectEnvSecrets(env: Readonly<Record<string, string | undefined>>, minLength: number): string[] {
  const out: string[] = []
  for (const name of Object.keys(env).sort()) {
    const value = env[name]
    if (value === undefined) continue
    const upper = name.toUpperCase()
    if (ENV_SKIP.has(upper) || upper.startsWith('LC_') || upper.startsWith('XDG_')) continue
    if (utf8Length(value) < minLength || shannonEntropy(value) <= 3.0) continue
    if (!out.includes(value)) out.push(value)
  }
  return out
}

/** Reads `dlp.secrets_file`; refuses a file with any of the mode bits 0o037 (§5.9). */
export function loadSecretsFile(path: string, minLength: number): ParsedSecretsFile {
  let mode: number
  let text: string
  try {
    mode = statSync(path).mode
    text = readFileSync(path, 'utf8')
  } catch {
    throw new PipelockError('CONFIG_INVALID', `dlp.secrets_file ${path} cannot be read`, {
      hint: 'point dlp.secrets_file at an existing, readable file',
    })
  }
  if ((mode & 0o037) !== 0) {
    throw new PipelockError('CONFIG_INVALID', `dlp.secrets_file ${path} has unsafe permissions ${(mode & 0o777).toString(8)}`, {
      hint: `chmod 600 ${shellWord(path)}`,
    })
  }
  const parsed = parseSecretsFile(text, minLength)
  // Validation refuses such a file; this is the file as read now (it may have grown since).
  if (parsed.total > SECRETS_FILE_MAX) {
    throw new PipelockError('CONFIG_INVALID', `dlp.secrets_file ${overCapReason(path, parsed.total)}`, {
      hint: `keep at most ${SECRETS_FILE_MAX} secrets in the file: the others would pass unseen`,
    })
  }
  return parsed
}

export {parseSecretsFile, type ParsedSecretsFile}

export interface SecretVariant {
  /** Encoding tag, e.g. `base64`, `hex`; empty for the literal. */
  readonly encoding: string
  readonly needle: string
  /** Hex variants are searched in a lower-cased haystack. */
  readonly lowerHaystack: boolean
}

function base32(bytes: Buffer, padded: boolean): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let out = ''
  let bits = 0
  let acc = 0
  for (const b of bytes) {
    acc = ((acc << 8) | b) & 0xffff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += A[(acc >> bits) & 31]
    }
  }
  if (bits > 0) out += A[(acc << (5 - bits)) & 31]
  if (padded) while (out.length % 8 !== 0) out += '='
  return out
}

function trimPadding(s: string): string {
  let e = s.length
  while (e > 0 && s[e - 1] === '=') e--
  return s.slice(0, e)
}

/** Every encoded form of a secret searched for (§5.9). */
export function secretVariants(secret: string): SecretVariant[] {
  const b = Buffer.from(secret, 'utf8')
  const std = b.toString('base64')
  const stdRaw = trimPadding(std)
  const url = std.split('+').join('-').split('/').join('_')
  const urlRaw = trimPadding(url)
  const hex = b.toString('hex')
  const pairs: string[] = []
  for (let i = 0; i < hex.length; i += 2) pairs.push(hex.slice(i, i + 2))
  const out: SecretVariant[] = [
    {encoding: '', needle: secret, lowerHaystack: false},
    {encoding: 'base64', needle: std, lowerHaystack: false},
  ]
  if (stdRaw !== std) out.push({encoding: 'base64', needle: stdRaw, lowerHaystack: false})
  if (url !== std) out.push({encoding: 'base64url', needle: url, lowerHaystack: false})
  if (urlRaw !== url && urlRaw !== stdRaw) out.push({encoding: 'base64url', needle: urlRaw, lowerHaystack: false})
  out.push({encoding: 'hex', needle: hex, lowerHaystack: true})
  for (const sep of [':', ' ', '-', ',']) out.push({encoding: 'hex', needle: pairs.join(sep), lowerHaystack: true})
  out.push({encoding: 'hex', needle: pairs.map((p) => '\\x' + p).join(''), lowerHaystack: true})
  out.push({encoding: 'hex', needle: pairs.map((p) => '0x' + p).join(''), lowerHaystack: true})
  const b32 = base32(b, true)
  out.push({encoding: 'base32', needle: b32, lowerHaystack: false})
  const b32raw = trimPadding(b32)
  if (b32raw !== b32) out.push({encoding: 'base32', needle: b32raw, lowerHaystack: false})
  return out
}

export interface LiteralSecret {
  readonly kind: 'env' | 'file'
  readonly variants: readonly SecretVariant[]
}

export function buildLiteralSecrets(envSecrets: readonly string[], fileSecrets: readonly string[]): LiteralSecret[] {
  const out: LiteralSecret[] = envSecrets.map((s) => ({kind: 'env' as const, variants: secretVariants(s)}))
  for (const s of fileSecrets) {
    if (envSecrets.includes(s)) continue // duplicates of env secrets are dropped (§5.9)
    out.push({kind: 'file', variants: secretVariants(s)})
  }
  return out
}

export interface LiteralHit {
  readonly kind: 'env' | 'file'
  readonly encoding: string
}

/** First secret found in any of the haystacks, with the encoding it was found in. */
export function findLiteralSecret(secrets: readonly LiteralSecret[], haystacks: readonly string[]): LiteralHit | null {
  // Without secrets nothing is lower-cased (a copy of every haystack on every scan).
  if (secrets.length === 0) return null
  // A form that changed nothing (the URL decoding of a text without escapes) is searched once.
  if (haystacks.some((h, i) => haystacks.indexOf(h) !== i)) haystacks = haystacks.filter((h, i) => haystacks.indexOf(h) === i)
  const lowered = haystacks.map((h) => h.toLowerCase())
  if (needlesAbsent(secrets, haystacks, lowered)) return null
  for (const s of secrets) {
    for (const v of s.variants) {
      const hs = v.lowerHaystack ? lowered : haystacks
      for (const h of hs) if (v.needle.length > 0 && h.includes(v.needle)) return {kind: s.kind, encoding: v.encoding}
    }
  }
  return null
}
