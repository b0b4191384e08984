/**
 * The HTTP listener's exchanges still in flight, cut when the kill switch comes on (mcp.md §15.1:
 * every message is denied while it is on), as the HTTP proxy cuts its live tunnels and streams:
 * a tools/call whose upstream is still working, or an SSE answer still streaming, gets the
 * kill-switch error at once instead of waiting for its answer to meet the response stage.
 *
 * The controller fires on an off→on edge of `poll()`. The watch holds its polling while an
 * exchange is in flight (`holdPolling`: under `pipelock run` the proxy already holds it, so the
 * timer is the run's; `mcp proxy --listen` has no one else), and not at all when idle.
 */
import type {KillSwitchController} from '../killswitch/index.js'

export class KillSwitchWatch {
  private readonly live = new Set<() => void>()
  /** While anything is watched: stops the activation listener and the polling hold together. */
  private stop: (() => void) | null = null
  constructor(private readonly controller: KillSwitchController) {}

  /**
   * Watches one exchange: `cut` runs when the switch comes on (it decides whether the switch
   * applies to it). Returns the function that stops watching it. An exchange that begins while the
   * switch is already on (it came on after the request was decided) is cut on the next turn.
   */
  watch(cut: () => void): () => void {
    this.live.add(cut)
    if (this.stop === null) {
      const unsubscribe = this.controller.onActivate(() => this.cutAll())
      const releasePolling = this.controller.holdPolling()
      this.stop = () => {
        releasePolling()
        unsubscribe()
      }
    }
    this.controller.cutIfMissed(() => this.live.has(cut), cut)
    return () => {
      if (!this.live.delete(cut) || this.live.size > 0) return
      this.stop!()
      this.stop = null
    }
  }

  private cutAll(): void {
    for (const cut of [...this.live]) cut()
  }
}
