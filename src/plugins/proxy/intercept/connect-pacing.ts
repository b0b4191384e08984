/**
 * The CONNECT steps before an intercepted tunnel's TLS set-up, paced by the interceptor's set-up
 * queue (bench: tls-tunnels; no stall over 10 ms with 256 concurrent tunnels). A burst of CONNECTs is
 * parsed in one poll phase; run at once, every tunnel's admission (URL scan and gates) and then
 * every pre-dial's follow-up (allow receipt, 200, first-record peek) share one turn. Plain relay
 * tunnels (no interceptor, or a passthrough host) go straight through, as before. While a step
 * waits, nothing has been answered or relayed, and the kill switch is checked after the dial.
 */
import type {OnReadOpts, Socket} from 'node:net'
import type {Dialer} from '../ports.js'
import type {LookupAll} from '../ssrf-dialer.js'
import {UPSTREAM_SLOT_HOLD_MS} from './setup-queue.js'
import type {Interceptor} from './runtime.js'

/**
 * Resolves when the CONNECT may run its admission: at most one slot's worth of admissions per
 * turn (the slot is given back at the next turn, after the admissions' synchronous work ran).
 */
export function admitTunnel(icpt: Interceptor): Promise<void> {
  return new Promise((resolve) =>
    icpt.setup.pushHandshake((settled) => {
      resolve()
      setImmediate(settled)
    }),
  )
}

/** Where a tunnel's pre-dial goes, and how (the Dialer port's arguments). */
export interface TunnelDial {
  readonly host: string
  readonly port: number
  readonly onread?: OnReadOpts | undefined
  readonly lookupAll?: LookupAll | undefined
}

/** The pre-dial (transports §2.7 step 12), one set-up slot from its start to its outcome. */
export function dialTunnel(icpt: Interceptor, dialer: Dialer, to: TunnelDial): Promise<Socket> {
  return new Promise((resolve, reject) =>
    icpt.setup.pushHandshake((settled) => {
      dialer.dial(to.host, to.port, to.onread, to.lookupAll).then(
        (s) => (settled(), resolve(s)),
        (e: unknown) => (settled(), reject(e as Error)),
      )
    }, UPSTREAM_SLOT_HOLD_MS),
  )
}
