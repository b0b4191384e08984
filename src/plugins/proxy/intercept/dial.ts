/**
 * The CONNECT pre-dial (transports §2.7 step 12) of a tunnel that will be intercepted, paced by
 * the interceptor's set-up queue like a handshake (one slot from the dial's start to its
 * outcome). A burst of CONNECTs otherwise dials together and then runs every tunnel's
 * post-dial work (allow receipt, 200, first-record peek) in one poll phase (issue 16). A plain
 * relay tunnel dials at once, as before. While a dial waits, the tunnel is registered (the kill
 * switch tears it down) and nothing has been answered or relayed.
 */
import type {Socket} from 'node:net'
import type {ProxyCore} from '../core.js'
import {UPSTREAM_SLOT_HOLD_MS} from './setup-queue.js'

export function dialTunnel(core: ProxyCore, host: string, port: number): Promise<Socket> {
  const icpt = core.interceptor ?? null
  if (icpt === null || !icpt.intercepts(host)) return core.dial(host, port)
  return new Promise((resolve, reject) =>
    icpt.setup.pushHandshake((settled) => {
      core.dial(host, port).then(
        (s) => (settled(), resolve(s)),
        (e: unknown) => (settled(), reject(e as Error)),
      )
    }, UPSTREAM_SLOT_HOLD_MS),
  )
}
