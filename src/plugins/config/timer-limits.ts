import {parseGoDuration} from '../canonical/index.js'
import type {ConfigWarning} from './problems.js'
import type {PipelockConfig} from './schema.js'

/**
 * Node's timers (setTimeout, setInterval, socket.setTimeout, AbortSignal.timeout, undici's
 * timeouts) take at most 2^31-1 ms (about 24.8 days): a longer delay fires after 1 ms, or throws
 * ERR_OUT_OF_RANGE. Every config value that ends up as such a delay is capped here, once, at
 * resolution, so no transport has to remember it and a file that writes "30 days" runs as the
 * longest wait Node can keep, said in a startup warning (docs/config.md, loading rule 6).
 */
export const TIMER_MAX_MS = 2 ** 31 - 1
export const TIMER_MAX_SECONDS = Math.floor(TIMER_MAX_MS / 1000)

/** Whole-second fields that become a timer's delay (times 1000) somewhere in the runtime. */
export const TIMER_SECONDS_FIELDS = [
  ['fetch_proxy', 'timeout_seconds'],
  ['forward_proxy', 'max_tunnel_seconds'],
  ['forward_proxy', 'idle_timeout_seconds'],
  ['websocket_proxy', 'max_connection_seconds'],
  ['websocket_proxy', 'idle_timeout_seconds'],
  ['response_scanning', 'ask_timeout_seconds'],
  ['session_profiling', 'cleanup_interval_seconds'],
  ['emit', 'webhook', 'timeout_seconds'],
  ['emit', 'otlp', 'timeout_seconds'],
] as const

/** Go-duration fields that become a timer's delay (scan API listener). */
export const TIMER_DURATION_FIELDS = [
  ['scan_api', 'timeouts', 'read'],
  ['scan_api', 'timeouts', 'write'],
  ['scan_api', 'timeouts', 'scan'],
] as const

const WHY = 'the longest timer Node.js can set, about 24.8 days'

/** Caps every timer field of `c` in place; one warning per field that was above the cap. */
export function capTimerFields(c: PipelockConfig, warnings: ConfigWarning[]): void {
  for (const path of TIMER_SECONDS_FIELDS) {
    const holder = parentOf(c, path)
    const key = path[path.length - 1]!
    const v = holder[key]
    if (typeof v === 'number' && v > TIMER_MAX_SECONDS) {
      holder[key] = TIMER_MAX_SECONDS
      warnings.push({field: path.join('.'), message: `${v} is read as ${TIMER_MAX_SECONDS} (${WHY})`})
    }
  }
  for (const path of TIMER_DURATION_FIELDS) {
    const holder = parentOf(c, path)
    const key = path[path.length - 1]!
    const v = holder[key]
    if (typeof v !== 'string' || v === '') continue
    let ms: number
    try {
      ms = parseGoDuration(v)
    } catch {
      continue // refused by validation, with the parser's words
    }
    if (ms > TIMER_MAX_MS) {
      const capped = `${TIMER_MAX_SECONDS}s`
      holder[key] = capped
      warnings.push({field: path.join('.'), message: `${JSON.stringify(v)} is read as ${JSON.stringify(capped)} (${WHY})`})
    }
  }
}

function parentOf(c: PipelockConfig, path: readonly string[]): Record<string, unknown> {
  let at: Record<string, unknown> = c as unknown as Record<string, unknown>
  for (const step of path.slice(0, -1)) at = at[step] as Record<string, unknown>
  return at
}
