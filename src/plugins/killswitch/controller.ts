/**
 * Kill switch (runtime spec §11): four OR-ed sources. `config` and `sentinel` come from the
 * config snapshot (replaced on reload); `api` and `signal` are runtime state that survives
 * reloads. The sentinel file is stat'ed on every check; any stat error other than "does not
 * exist" counts as active (fail closed, Appendix B #7).
 */
import {statSync} from 'node:fs'

export type KillSwitchSource = 'config' | 'api' | 'signal' | 'sentinel'

/** Priority order used to report "the" active source (§11.1). */
export const KILL_SWITCH_SOURCES: readonly KillSwitchSource[] = ['config', 'api', 'signal', 'sentinel']

export interface KillSwitchInputs {
  /** `kill_switch.enabled`. */
  readonly enabled: boolean
  /** `kill_switch.sentinel_file` ('' = none). */
  readonly sentinelFile: string
  /** `kill_switch.message`. */
  readonly message: string
}

export interface KillSwitchStatus {
  readonly active: boolean
  readonly source: KillSwitchSource | null
  readonly sources: Readonly<Record<KillSwitchSource, boolean>>
  readonly message: string
}

/** How often a held controller polls its sources (a stat of the sentinel file). */
const POLL_MS = 250

/** Listener called when the switch flips from inactive to active (live tunnels are torn down). */
export type ActivationListener = (source: KillSwitchSource) => void

export class KillSwitchController {
  private inputs: KillSwitchInputs
  private apiActive = false
  private signalActive = false
  private readonly listeners = new Set<ActivationListener>()
  private lastActive = false
  /** The sentinel file as of the last poll, and who is told when it appears or goes. */
  private lastSentinel = false
  private readonly sentinelListeners = new Set<(present: boolean) => void>()
  /** Who asked for polling (`holdPolling`), and the one timer while anyone does. */
  private pollHolders = 0
  private pollTimer: NodeJS.Timeout | undefined

  constructor(inputs: KillSwitchInputs) {
    this.inputs = inputs
  }

  /** Config reload: replaces `config` and `sentinel` inputs, keeps `api` and `signal` (§11.1). */
  updateInputs(inputs: KillSwitchInputs): void {
    this.inputs = inputs
    this.poll()
  }

  get message(): string {
    return this.inputs.message
  }

  setApi(active: boolean): void {
    this.apiActive = active
    this.poll()
  }

  /** SIGUSR1: toggles the signal source and returns the new state. */
  toggleSignal(): boolean {
    this.signalActive = !this.signalActive
    this.poll()
    return this.signalActive
  }

  sentinelActive(): boolean {
    const file = this.inputs.sentinelFile
    if (file === '') return false
    try {
      statSync(file)
      return true
    } catch (err) {
      // Only "does not exist" means off; EACCES, ELOOP, … fail closed.
      const code = (err as NodeJS.ErrnoException).code
      return !(code === 'ENOENT' || code === 'ENOTDIR')
    }
  }

  status(): KillSwitchStatus {
    const sources: Record<KillSwitchSource, boolean> = {
      config: this.inputs.enabled,
      api: this.apiActive,
      signal: this.signalActive,
      sentinel: this.sentinelActive(),
    }
    const source = KILL_SWITCH_SOURCES.find((s) => sources[s]) ?? null
    return {active: source !== null, source, sources, message: this.inputs.message}
  }

  isActive(): boolean {
    return this.status().active
  }

  /**
   * The state as of the last `poll()` (the proxy polls on every gate check and four times a
   * second). Cheap enough for per-read checks inside live tunnels, where a stat per chunk is not.
   */
  activeAsOfLastPoll(): boolean {
    return this.lastActive
  }

  /**
   * Live work registered while the switch is already on as of the last poll: it came on while the
   * work was being set up (a WebSocket's dial, an MCP exchange decided just before), after the
   * activation's cut had run, so it missed it. `cut` runs on the next turn if `stillLive()` then.
   */
  cutIfMissed(stillLive: () => boolean, cut: () => void): void {
    if (!this.lastActive) return
    queueMicrotask(() => {
      if (stillLive()) cut()
    })
  }

  /**
   * Polls the sources every `POLL_MS` while at least one holder asks for it, so that a sentinel
   * file tears down live work without waiting for the next request (the proxy holds it while it
   * runs; the MCP listener while an exchange is in flight): one timer however many hold it.
   * Returns the release function (idempotent).
   */
  holdPolling(): () => void {
    if (this.pollHolders++ === 0) {
      this.pollTimer = setInterval(() => this.poll(), POLL_MS)
      this.pollTimer.unref()
    }
    let held = true
    return () => {
      if (!held) return
      held = false
      if (--this.pollHolders === 0 && this.pollTimer !== undefined) {
        clearInterval(this.pollTimer)
        this.pollTimer = undefined
      }
    }
  }

  /** Subscribes to activations; returns an unsubscribe function. */
  onActivate(listener: ActivationListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /**
   * Subscribes to the sentinel file appearing (true) or going (false): the API and SIGUSR1 say
   * who flipped them; a file has no caller to log it. Returns an unsubscribe function.
   */
  onSentinelChange(listener: (present: boolean) => void): () => void {
    this.sentinelListeners.add(listener)
    return () => this.sentinelListeners.delete(listener)
  }

  /**
   * Re-evaluates the sources and fires activation listeners on an off→on edge (and the sentinel
   * listeners when the file appeared or went). Called by the setters, by every gate check and by
   * a short timer (so a sentinel file tears down idle tunnels).
   */
  poll(): KillSwitchStatus {
    const st = this.status()
    const edge = st.active && !this.lastActive
    const sentinelEdge = st.sources.sentinel !== this.lastSentinel
    // Set before the listeners run: a listener that polls (a live relay asking whether its client
    // is exempt) sees the switch on, not a second off→on edge.
    this.lastActive = st.active
    this.lastSentinel = st.sources.sentinel
    if (sentinelEdge) for (const l of [...this.sentinelListeners]) l(st.sources.sentinel)
    if (edge) for (const l of [...this.listeners]) l(st.source!)
    return st
  }
}
