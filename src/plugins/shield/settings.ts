import type {PipelockConfig} from '../config/index.js'

export type Strictness = 'minimal' | 'standard' | 'aggressive'
export type OversizeAction = 'block' | 'scan_head' | 'warn'

/** `browser_shield` as the rewrite reads it (scanners-extra §3.2). */
export interface ShieldSettings {
  readonly enabled: boolean
  readonly strictness: Strictness
  readonly maxShieldBytes: number
  readonly oversizeAction: OversizeAction
  readonly exemptDomains: readonly string[]
  readonly stripExtensionProbing: boolean
  readonly stripHiddenTraps: boolean
  readonly stripTrackingPixels: boolean
  readonly injectFingerprintShims: boolean
  readonly trackingDomains: readonly string[]
}

export const DEFAULT_MAX_SHIELD_BYTES = 5 * 1024 * 1024

export function shieldSettingsFromConfig(c: PipelockConfig['browser_shield']): ShieldSettings {
  return {
    enabled: c.enabled,
    strictness: (c.strictness === '' ? 'standard' : c.strictness) as Strictness,
    maxShieldBytes: c.max_shield_bytes > 0 ? c.max_shield_bytes : DEFAULT_MAX_SHIELD_BYTES,
    oversizeAction: (c.oversize_action === '' ? 'scan_head' : c.oversize_action) as OversizeAction,
    exemptDomains: c.exempt_domains,
    stripExtensionProbing: c.strip_extension_probing,
    stripHiddenTraps: c.strip_hidden_traps,
    stripTrackingPixels: c.strip_tracking_pixels,
    injectFingerprintShims: c.inject_fingerprint_shims,
    trackingDomains: c.tracking_domains,
  }
}
