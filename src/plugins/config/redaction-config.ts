/**
 * The `redaction:` section (envelope-redaction spec §13, §17.2, §18): validation shared by
 * `pipelock check`, `pipelock run` and reload (one function, called from validateConfig), the
 * loader of `dictionaries.<name>.entries_file` (which the reference never loads), and the host and
 * route rules the redaction plugin matches with. Pure except for reading the entries files.
 */
import {readFileSync} from 'node:fs'
import {lazyYaml} from '../canonical/index.js'
import {osErrorReason} from '../errors/index.js'
import {refuseSpecialFile} from '../signing/index.js'

/** The 28 built-in class names (§14.1), in the spec's table order. */
export const REDACTION_CLASS_NAMES: readonly string[] = [
  'env-secret', 'aws-access-key', 'aws-secret-key', 'google-api-key', 'github-token', 'gitlab-token', 'slack-token',
  'openai-api-key', 'anthropic-api-key', 'telegram-bot-token', 'discord-bot-token', 'jwt', 'ssh-private-key', 'bearer',
  'ad-user', 'ssn', 'hash-sha512', 'hash-sha256', 'hash-sha1', 'hash-md5', 'credit-card', 'cidr', 'ipv4', 'ipv6', 'mac',
  'email', 'fqdn', 'seed-phrase',
]

export const REDACTION_LIMIT_DEFAULTS = {max_body_bytes: 10485760, max_redactions_per_request: 10000, max_depth: 64} as const
export const REDACTION_LIMIT_CAPS = {max_body_bytes: 64 * 1024 * 1024, max_redactions_per_request: 1_000_000, max_depth: 256} as const

const NAME = /^[a-z0-9][a-z0-9_-]*$/

export interface RedactionRouteConfig {
  host: string
  methods?: string[] | undefined
  path_prefixes?: string[] | undefined
  path_suffixes?: string[] | undefined
  content_types?: string[] | undefined
}

export interface RedactionSectionConfig {
  enabled: boolean
  default_profile: string
  profiles: Record<string, {classes?: string[] | undefined; dictionaries?: string[] | undefined}>
  dictionaries: Record<string, {class?: string | undefined; entries?: string[] | undefined; entries_file?: string | undefined; case_insensitive?: boolean | undefined; word_boundary?: boolean | undefined; priority?: number | undefined}>
  limits: {max_body_bytes: number; max_redactions_per_request: number; max_depth: number}
  strict_reload: boolean
  allowlist_unparseable: string[]
  allowlist_unparseable_routes: RedactionRouteConfig[]
  providers: Record<string, {host_patterns?: string[] | undefined; path_prefixes?: string[] | undefined; parser?: string | undefined}>
}

/** A redaction config error; the message is the spec's, without the `redaction: redact: ` prefix. */
export class RedactionConfigError extends Error {
  /**
   * `prefixed`: false for the one message the reference words without the `redact: ` prefix.
   * `at`: where in the section, so the error names the line of the offending entry.
   */
  constructor(message: string, readonly prefixed = true, readonly at: readonly (string | number)[] = []) {
    super(message)
  }
}

const sorted = <T>(r: Record<string, T>): [string, T][] => Object.keys(r).sort().map((k) => [k, r[k]!])

/** §18.1: a bare host, or a leading `*.` wildcard (R7 fix: no `*` elsewhere). Null when valid. */
export function hostEntryError(h: string, wildcard = true): string | null {
  if (h === '') return 'empty'
  if (/[/?#@]/.test(h)) return 'must not contain scheme, path, query, or userinfo'
  if (h.includes(':')) return 'must not contain a port (bare hostname only)'
  if (h !== h.toLowerCase()) return 'must be lowercase'
  const body = wildcard && h.startsWith('*.') ? h.slice(2) : h
  if (body.includes('*')) return 'wildcard is only supported as a leading *. prefix'
  if (body.startsWith('.') || body.endsWith('.')) return 'leading or trailing dot not permitted'
  if (body.includes('..')) return 'consecutive dots not permitted'
  for (const ch of body) if (!/[a-z0-9.-]/.test(ch)) return `invalid character '${ch}'`
  return null
}

/** Go `mime.ParseMediaType`-like: lower-cased media type and whether it had parameters; null if unparseable. */
export function parseMediaTypeStrict(v: string): {type: string; params: boolean} | null {
  const semi = v.indexOf(';')
  const base = (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase()
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+(?:\/[!#$%&'*+.^_`|~0-9a-z-]+)?$/.test(base)) return null
  return {type: base, params: semi >= 0}
}

function routeError(r: RedactionRouteConfig): string | null {
  const he = hostEntryError(r.host)
  if (he !== null) return `host "${r.host}": ${he}`
  const m = r.methods ?? [], pp = r.path_prefixes ?? [], ps = r.path_suffixes ?? [], ct = r.content_types ?? []
  if (m.length + pp.length + ps.length + ct.length === 0) return 'must include at least one of methods, path_prefixes, path_suffixes, or content_types'
  for (const [i, x] of m.entries()) if (x === '' || x !== x.toUpperCase() || /\s/.test(x)) return `methods[${i}] "${x}" must be a non-empty upper-case method without whitespace`
  for (const [i, x] of pp.entries()) {
    if (!x.startsWith('/')) return `path_prefixes[${i}] "${x}" must start with /`
    if (x === '/' && m.length + ps.length + ct.length === 0) return `path_prefixes[${i}] "/" needs methods, path_suffixes or content_types`
  }
  for (const [i, x] of ps.entries()) if (x === '') return `path_suffixes[${i}] must not be empty`
  for (const [i, x] of ct.entries()) {
    const p = parseMediaTypeStrict(x)
    if (p === null) return `content_types[${i}] "${x}" is not a valid media type`
    if (p.params) return `content_types[${i}] "${x}" must not have parameters`
    if (p.type !== x) return `content_types[${i}] "${x}" must be lower-case`
  }
  return null
}

function providerError(name: string, p: RedactionSectionConfig['providers'][string]): string | null {
  if (!NAME.test(name)) return `provider "${name}" must match [a-z0-9][a-z0-9_-]*`
  const parser = p.parser ?? ''
  if (parser !== '' && parser !== 'json') return `provider "${name}" parser "${parser}" is not supported`
  const hosts = p.host_patterns ?? []
  if (hosts.length === 0) return `provider "${name}" must define at least one host_pattern`
  for (const [i, h] of hosts.entries()) {
    const e = hostEntryError(h)
    if (e !== null) return `provider "${name}" host_patterns[${i}] "${h}": ${e}`
  }
  for (const [i, x] of (p.path_prefixes ?? []).entries()) {
    if (!x.startsWith('/') || x.includes('?') || x.includes('#')) return `provider "${name}" path_prefixes[${i}] "${x}" must be an absolute path prefix without query or fragment`
  }
  return null
}

/**
 * Reads a dictionary's `entries_file`: a YAML or JSON document holding a list of strings (the
 * path is already absolute, resolved against the config file's directory at load).
 */
export function loadEntriesFile(file: string): string[] {
  try {
    refuseSpecialFile(file, 'entries_file')
  } catch (e) {
    throw new RedactionConfigError((e as Error).message)
  }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new RedactionConfigError(`entries_file "${file}" cannot be read: ${osErrorReason(e)}`)
  }
  let v: unknown
  try {
    v = lazyYaml().parse(text)
  } catch (e) {
    throw new RedactionConfigError(`entries_file "${file}" is not YAML or JSON: ${(e as Error).message.split('\n')[0]}`)
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new RedactionConfigError(`entries_file "${file}" must hold a list of strings`)
  return v as string[]
}

/** A dictionary's entries: inline first, then the file's (port: the reference never loads the file). */
export function dictionaryEntries(d: RedactionSectionConfig['dictionaries'][string]): string[] {
  const inline = d.entries ?? []
  const file = d.entries_file ?? ''
  return file === '' ? [...inline] : [...inline, ...loadEntriesFile(file)]
}

/**
 * §13 validation, first error wins, maps iterated in sorted order (R5 fix). Throws
 * RedactionConfigError. `requestBodyScanning`: whether `request_body_scanning.enabled`.
 */
export function validateRedactionSection(r: RedactionSectionConfig, requestBodyScanning: boolean): void {
  const fail = (m: string, at: readonly (string | number)[] = []): never => {
    throw new RedactionConfigError(m, true, at)
  }
  r.allowlist_unparseable.forEach((h, i) => {
    const e = hostEntryError(h)
    if (e !== null) fail(`allowlist_unparseable[${i}] "${h}": ${e}`, ['allowlist_unparseable', i])
  })
  r.allowlist_unparseable_routes.forEach((route, i) => {
    const e = routeError(route)
    if (e !== null) fail(`allowlist_unparseable_routes[${i}]: ${e}`, ['allowlist_unparseable_routes', i])
  })
  for (const [n, d] of sorted(r.dictionaries)) {
    const cls = d.class ?? ''
    if (cls !== '' && !NAME.test(cls)) fail(`dictionary "${n}" class "${cls}" must match [a-z0-9][a-z0-9_-]*`, ['dictionaries', n, 'class'])
  }
  for (const [n, p] of sorted(r.providers)) {
    const e = providerError(n, p)
    if (e !== null) fail(e, ['providers', n])
  }
  if (!r.enabled) return
  if (r.default_profile === '') fail('default_profile required when enabled', ['enabled'])
  if (r.profiles[r.default_profile] === undefined) fail(`default_profile "${r.default_profile}" not defined in profiles`, ['default_profile'])
  for (const [n, p] of sorted(r.profiles)) {
    const classes = p.classes ?? [], dicts = p.dictionaries ?? []
    if (classes.length + dicts.length === 0) fail(`profile "${n}" has no classes or dictionaries`, ['profiles', n])
    for (const c of classes) if (!REDACTION_CLASS_NAMES.includes(c)) fail(`profile "${n}" references unknown class "${c}"`, ['profiles', n, 'classes'])
    for (const d of dicts) if (r.dictionaries[d] === undefined) fail(`profile "${n}" references unknown dictionary "${d}"`, ['profiles', n, 'dictionaries'])
  }
  for (const [n, d] of sorted(r.dictionaries)) {
    if ((d.class ?? '') === '') fail(`dictionary "${n}" missing class`, ['dictionaries', n])
    if ((d.entries ?? []).length === 0 && (d.entries_file ?? '') === '') fail(`dictionary "${n}" has no entries or entries_file`, ['dictionaries', n])
    if ((d.entries_file ?? '') !== '') {
      try {
        loadEntriesFile(d.entries_file!)
      } catch (e) {
        fail(`dictionary "${n}": ${(e as Error).message}`, ['dictionaries', n, 'entries_file'])
      }
    }
  }
  if (!requestBodyScanning) {
    throw new RedactionConfigError('enabled=true requires request_body_scanning.enabled=true (the redaction hook lives in the body-scan path)', false)
  }
}

/** envelope-redaction §13 reload warnings (the matcher is rebuilt with the new config snapshot). */
export function redactionReloadWarnings(running: RedactionSectionConfig, next: RedactionSectionConfig): string[] {
  if (running.enabled && !next.enabled) return ['redaction disabled — request bodies will no longer be rewritten before forwarding']
  if (running.enabled && next.enabled && running.default_profile !== next.default_profile) {
    return [`redaction default_profile changed from "${running.default_profile}" to "${next.default_profile}" — matcher rules updated`]
  }
  return []
}
