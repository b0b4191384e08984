/**
 * The mediation envelope of a running proxy (spec §1, §9): the signer and the verifier built from
 * `mediation_envelope` by the same `envelopeSettings` that `pipelock check` runs. Rebuilt with every
 * snapshot (the signing key is re-read: rotation); the replay cache is carried across reloads so a
 * reload never grants a free replay (E8 fixed).
 */
import {ConfigFieldError, envelopeSettings, type EnvelopeSettings, type PipelockConfig} from '../config/index.js'
import {EnvelopeSigner, EnvelopeVerifier, ReplayCache} from '../envelope/index.js'
import {renderFamily} from './metrics.js'

/** The replay cache's live-eviction counter (spec §6.5, E9 replicated: counted so an operator sees it). */
export const REPLAY_EVICTIONS_METRIC = 'pipelock_envelope_replay_evictions_total'

/**
 * Scrape-time metrics of the envelope in force: live nonces evicted from the replay cache at
 * `max_entries`. The cache (and so the count) survives reloads; it starts again from 0 only when
 * inbound verification was off in between, as after a restart.
 */
export function renderEnvelopeMetrics(out: string[], m: MediationRuntime | null): void {
  renderFamily(out, REPLAY_EVICTIONS_METRIC, 'Live nonces evicted from the inbound replay cache at max_entries (a replay of an evicted nonce is no longer detected).', 'counter', [[{}, m?.replay.liveEvictions ?? 0]])
}

export interface MediationRuntime {
  readonly settings: EnvelopeSettings
  /** Null unless `enabled` and `sign`. */
  readonly signer: EnvelopeSigner | null
  /** Null unless `verify_inbound.enabled`. */
  readonly verifier: EnvelopeVerifier | null
  readonly replay: ReplayCache
}

export function buildMediation(config: PipelockConfig, previous?: MediationRuntime | null): MediationRuntime | null {
  const me = config.mediation_envelope
  if (!me.enabled && !me.verify_inbound.enabled) return null
  let s
  try {
    s = envelopeSettings(me, (path, message) => {
      throw new ConfigFieldError(path, message)
    })
  } catch (e) {
    // The reload's validation read the key a moment ago; if it vanished since, keep the signer in
    // force (spec §4.5: a failed re-read never leaves the proxy without its envelope). At start-up: refuse.
    if (previous !== undefined && previous !== null) return previous
    throw e
  }
  const replay = previous?.replay ?? new ReplayCache(s.verify.maxEntries)
  replay.maxEntries = s.verify.maxEntries
  const signer = s.enabled && s.sign && s.keyPair !== null
    ? new EnvelopeSigner({keyPair: s.keyPair, keyId: s.keyId, components: s.components, lifetimeSeconds: s.lifetimeSeconds, maxBodyBytes: s.maxBodyBytes})
    : null
  const verifier = s.verify.enabled
    ? new EnvelopeVerifier({trust: s.verify.trust, skewSeconds: s.skewSeconds, windowSeconds: s.verify.windowSeconds, strictActor: s.actorFormat === 'spiffe', replay})
    : null
  return {settings: s, signer, verifier, replay}
}
