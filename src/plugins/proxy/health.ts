/**
 * `/health` body and the health watchdog (§17). The watchdog ticks every `interval_seconds`; a
 * subsystem is unhealthy when its heartbeat is older than 3 intervals. The scanner heartbeat is
 * refreshed by a synthetic probe (`ftp://wedge-probe.invalid/` must come back as a scheme block)
 * so a wedged scanner is noticed even when no traffic flows.
 */
import type {UrlScanResult} from '../scanner/index.js'

export interface WatchdogDeps {
  readonly intervalMs: number
  readonly nowMs: () => number
  readonly probe: () => Promise<UrlScanResult>
  readonly hasConfig: () => boolean
  readonly killSwitchWired: () => boolean
  /** §17 `session`: the session manager is present (checked only while session profiling is on). */
  readonly sessionsPresent?: () => boolean
}

export class HealthWatchdog {
  private lastTick: number
  private lastScannerOk: number
  private timer: NodeJS.Timeout | undefined
  private probing = false

  constructor(private readonly deps: WatchdogDeps) {
    this.lastTick = deps.nowMs()
    this.lastScannerOk = deps.nowMs()
  }

  start(): void {
    const tick = (): void => {
      this.lastTick = this.deps.nowMs()
      if (this.probing) return
      this.probing = true
      const started = this.deps.nowMs()
      this.deps
        .probe()
        .then((r) => {
          // Must be the scheme block, quickly (within interval/2).
          if (!r.allowed && r.scanner === 'scheme' && this.deps.nowMs() - started <= this.deps.intervalMs / 2) this.lastScannerOk = this.deps.nowMs()
        })
        .catch(() => undefined)
        .finally(() => {
          this.probing = false
        })
    }
    tick()
    this.timer = setInterval(tick, this.deps.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
  }

  /** Per-subsystem health (§17). */
  subsystems(): {scanner: boolean; config: boolean; session: boolean; killswitch: boolean; watchdog: boolean} {
    const now = this.deps.nowMs()
    const stale = 3 * this.deps.intervalMs
    return {
      scanner: now - this.lastScannerOk <= stale,
      config: this.deps.hasConfig(),
      session: this.deps.sessionsPresent?.() ?? true,
      killswitch: this.deps.killSwitchWired(),
      watchdog: now - this.lastTick <= stale,
    }
  }
}
