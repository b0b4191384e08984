/**
 * The cross-request detector a snapshot holds (operations §5.2), built from the config; the
 * request side lives in cee-gate.ts and the gate's cross-request stage.
 */
import {CrossRequestDetector, newCeeCounters, type CeeSettings} from '../cee/index.js'
import type {PipelockConfig} from '../config/index.js'

export function ceeSettingsFromConfig(c: PipelockConfig): CeeSettings {
  const cr = c.cross_request_detection
  return {
    enabled: cr.enabled,
    action: cr.action === 'warn' ? 'warn' : 'block',
    entropy: {
      enabled: cr.entropy_budget.enabled, bitsPerWindow: cr.entropy_budget.bits_per_window, windowMs: cr.entropy_budget.window_minutes * 60_000,
      action: cr.entropy_budget.action === 'block' ? 'block' : 'warn', exemptDomains: [...cr.entropy_budget.exempt_domains],
    },
    fragments: {enabled: cr.fragment_reassembly.enabled, maxBufferBytes: cr.fragment_reassembly.max_buffer_bytes, windowMs: cr.fragment_reassembly.window_minutes * 60_000},
  }
}

/**
 * A snapshot's detector: rebuilt (emptied) on every reload (§5.2), counters carried over; the
 * previous detector's sweep is stopped. Null while `cross_request_detection.enabled` is false.
 */
export function buildDetector(c: PipelockConfig, previous: CrossRequestDetector | null | undefined, nowMs: () => number): CrossRequestDetector | null {
  previous?.stop()
  if (!c.cross_request_detection.enabled) return null
  const d = new CrossRequestDetector(ceeSettingsFromConfig(c), previous?.counters ?? newCeeCounters())
  d.start(nowMs)
  return d
}
