/**
 * `mediation_envelope:` normalization and validation (spec §9.1, §9.2), the one function both
 * `pipelock check` (through config validation) and `pipelock run` (building the signer and the
 * verifier) call, so the two cannot disagree.
 */
import {readFileSync, statSync} from 'node:fs'
import {parseGoDuration} from '../canonical/index.js'
import type {PipelockConfig} from './schema.js'
import {checkPrivateKeyMode, decodePrivateKeyText, keyPairFromGoPrivateKey, parsePublicKeyValue, refuseSpecialFile, type Ed25519KeyPair} from '../signing/index.js'
import {osErrorReason} from '../errors/index.js'
import {
  DEFAULT_COMPONENTS, DEFAULT_KEY_ID, DEFAULT_MAX_BODY_BYTES, DEFAULT_REPLAY_ENTRIES, DEFAULT_SKEW_SECONDS, DEFAULT_TRUST_DOMAIN, DEFAULT_WINDOW_SECONDS,
  isTrustDomain, SUPPORTED_COMPONENTS, type ActorFormat, type TrustedKey,
} from '../envelope/index.js'

type MediationConfig = PipelockConfig['mediation_envelope']
export type FailField = (path: Array<string | number>, message: string) => never

export interface EnvelopeSettings {
  readonly enabled: boolean
  readonly sign: boolean
  readonly keyId: string
  readonly components: readonly string[]
  readonly skewSeconds: number
  readonly maxBodyBytes: number
  readonly lifetimeSeconds: number
  readonly actorFormat: ActorFormat
  readonly trustDomain: string
  /** Loaded when `sign` (re-read on every reload: rotation). */
  readonly keyPair: Ed25519KeyPair | null
  readonly verify: {
    readonly enabled: boolean
    readonly trust: readonly TrustedKey[]
    readonly windowSeconds: number
    readonly maxEntries: number
  }
}

const DOMAIN_MSG = 'must be a DNS-shaped label with no scheme, slashes, userinfo, or port'

function durationSeconds(text: string, fail: (m: string) => never): number {
  let ms: number
  try {
    ms = parseGoDuration(text)
  } catch (e) {
    return fail((e as Error).message)
  }
  return ms / 1000
}

/** Normalizes and validates; first error wins (spec §9.2 order). Reads the signing key when `sign`. */
export function envelopeSettings(c: MediationConfig, fail: FailField): EnvelopeSettings {
  const P = 'mediation_envelope'
  if (c.sign && !c.enabled) fail([P, 'sign'], 'requires mediation_envelope.enabled')
  const actorFormat = (c.actor_format === '' ? 'spiffe' : c.actor_format.toLowerCase()) as ActorFormat
  if (actorFormat !== 'spiffe' && actorFormat !== 'legacy') fail([P, 'actor_format'], 'must be "legacy" or "spiffe"')
  let trustDomain = ''
  if (actorFormat === 'spiffe') {
    trustDomain = (c.trust_domain === '' ? DEFAULT_TRUST_DOMAIN : c.trust_domain).trim().toLowerCase()
    if (!isTrustDomain(trustDomain)) fail([P, 'trust_domain'], `"${c.trust_domain}" ${DOMAIN_MSG}`)
  }
  if (c.created_skew_seconds < 0) fail([P, 'created_skew_seconds'], `must be >= 0, got ${c.created_skew_seconds}`)
  if (c.max_body_bytes < 0) fail([P, 'max_body_bytes'], `must be >= 0, got ${c.max_body_bytes}`)
  const skewSeconds = c.created_skew_seconds === 0 ? DEFAULT_SKEW_SECONDS : c.created_skew_seconds
  const maxBodyBytes = c.max_body_bytes === 0 ? DEFAULT_MAX_BODY_BYTES : c.max_body_bytes
  const components: string[] = []
  const raw = c.signed_components.length === 0 ? DEFAULT_COMPONENTS : c.signed_components
  raw.forEach((r, i) => {
    const comp = r.trim().toLowerCase()
    if (comp === '') fail([P, 'signed_components', i], 'must not be empty')
    if (!SUPPORTED_COMPONENTS.has(comp)) fail([P, 'signed_components', i], `"${r}" is not supported`)
    if (components.includes(comp)) fail([P, 'signed_components', i], `"${comp}" duplicates an earlier entry`)
    components.push(comp)
  })
  const keyId = c.key_id === '' ? DEFAULT_KEY_ID : c.key_id
  // E22 fixed: a key id RFC 8941 cannot carry as a String would fail every request; refuse at load.
  if (!/^[\x20-\x7e]+$/.test(keyId)) fail([P, 'key_id'], 'must be printable ASCII')
  const v = c.verify_inbound
  const window = v.replay_cache.window === '' ? DEFAULT_WINDOW_SECONDS : durationSeconds(v.replay_cache.window, (m) => fail([P, 'verify_inbound', 'replay_cache', 'window'], m))
  let lifetimeSeconds = window
  let keyPair: Ed25519KeyPair | null = null
  if (c.sign) {
    if (c.signature_expires !== '') lifetimeSeconds = durationSeconds(c.signature_expires, (m) => fail([P, 'signature_expires'], m))
    if (!(lifetimeSeconds > 0)) fail([P, 'signature_expires'], 'must be > 0')
    if (c.signing_key_path === '') fail([P, 'signing_key_path'], 'required when mediation_envelope.sign is true')
    try {
      keyPair = loadSigningKey(c.signing_key_path)
    } catch (e) {
      // A missing or unreadable file in words, as the other key and list files are (never Node's "ENOENT: …, stat" text).
      const sys = typeof (e as NodeJS.ErrnoException).syscall === 'string'
      fail([P, 'signing_key_path'], sys ? `"${c.signing_key_path}" cannot be read: ${osErrorReason(e)}` : `"${c.signing_key_path}": ${(e as Error).message}`)
    }
  }
  const trust: TrustedKey[] = []
  if (v.enabled) {
    const V = [P, 'verify_inbound']
    if (v.trust_list.length === 0) fail([...V, 'trust_list'], 'must contain at least one trusted key')
    v.trust_list.forEach((t, i) => {
      const at = [...V, 'trust_list', i]
      if (t.key_id.trim() === '') fail([...at, 'key_id'], 'is required')
      const dup = trust.findIndex((k) => k.keyId === t.key_id)
      if (dup >= 0) fail([...at, 'key_id'], `"${t.key_id}" duplicates trust_list[${dup}]`)
      if ((t.public_key ?? '').trim() === '') fail([...at, 'public_key'], 'is required')
      let publicKey: Buffer
      try {
        publicKey = parsePublicKeyValue(t.public_key!).bytes
      } catch (e) {
        return fail([...at, 'public_key'], (e as Error).message)
      }
      if (t.well_known_url !== undefined && t.well_known_url !== '' && !/^https:\/\/[^/?#]+/i.test(t.well_known_url)) fail([...at, 'well_known_url'], 'must be an https URL')
      const domains = (t.trust_domains ?? []).map((d, j) => {
        const dn = d.trim().toLowerCase()
        if (dn === '') fail([...at, 'trust_domains', j], 'must not be empty')
        if (!isTrustDomain(dn)) fail([...at, 'trust_domains', j], `"${d}" ${DOMAIN_MSG}`)
        return dn
      })
      trust.push({keyId: t.key_id, publicKey, trustDomains: domains})
    })
    if (!(window > 0)) fail([...V, 'replay_cache', 'window'], 'must be > 0')
    if (v.replay_cache.max_entries < 0) fail([...V, 'replay_cache', 'max_entries'], 'must be >= 0')
    if (c.sign && lifetimeSeconds > window) {
      fail([P, 'signature_expires'], `(${c.signature_expires}) must be <= mediation_envelope.verify_inbound.replay_cache.window (${v.replay_cache.window || '5m0s'})`)
    }
  }
  return {
    enabled: c.enabled, sign: c.sign, keyId, components, skewSeconds, maxBodyBytes,
    lifetimeSeconds: Math.floor(lifetimeSeconds), actorFormat, trustDomain, keyPair,
    verify: {enabled: v.enabled, trust, windowSeconds: window, maxEntries: v.replay_cache.max_entries === 0 ? DEFAULT_REPLAY_ENTRIES : v.replay_cache.max_entries},
  }
}

/** `pipelock-ed25519-private-v1` text; symlinks followed; mode must have none of 0o037 (spec §4.5). */
export function loadSigningKey(path: string): Ed25519KeyPair {
  refuseSpecialFile(path, 'key file')
  const st = statSync(path)
  checkPrivateKeyMode(path, st.mode & 0o777)
  return keyPairFromGoPrivateKey(decodePrivateKeyText(readFileSync(path, 'utf8')))
}
