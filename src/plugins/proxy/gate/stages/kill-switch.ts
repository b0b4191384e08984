/**
 * Kill switch (runtime §11): first in the order, before the identity is judged or anything is
 * scanned. Every HTTP transport runs this one stage; the transports that must also cut a request
 * mid-way (a CONNECT whose tunnel was being dialled) run it again through `killSwitchStage.run`,
 * and live relays torn down on activation record `KILL_SWITCH_BLOCK`, so the Decision, the block
 * reason and the receipt are the same wherever the switch is met.
 *
 * How each transport answers is data (`KILL_SWITCH_ANSWERS`): the status, the body when it is not
 * the transport's usual block body, and whether `kill_switch.allowlist_ips` exempts the client
 * (the main listener and the tunnels it opens honour it, §11.2 and transports §2.9 step 5; the
 * reverse listener does not, transports §4.3 step 2).
 */
import {ipInAnyCidr} from '../../../killswitch/index.js'
import {killSwitchBody, type BlockBody} from '../../block.js'
import type {KillSwitchPort, SnapshotSource, StreamRegistry} from '../../ports.js'
import type {Transport} from '../../decision.js'
import type {RequestGateContext, Stage} from '../context.js'

/** The Decision fields of a kill-switch block, on every transport and every live relay. */
export const KILL_SWITCH_BLOCK = {stage: 'kill_switch', layer: 'kill_switch', reason: 'kill_switch_active', detail: 'kill switch active'} as const

interface KillSwitchAnswer {
  readonly status: number
  /** The body, when it is not the transport's own block body for the detail. */
  readonly body?: (message: string) => string | BlockBody
  /** Whether a client inside `allowlist_ips` passes. */
  readonly allowlist: boolean
}

const JSON_503: KillSwitchAnswer = {status: 503, body: (message) => ({json: JSON.stringify(killSwitchBody(message))}), allowlist: true}

export const KILL_SWITCH_ANSWERS: Readonly<Record<Transport, KillSwitchAnswer>> = {
  // An absolute-URI request: 403 text (§11.2 deny form).
  forward: {status: 403, body: () => 'blocked: kill_switch_active', allowlist: true},
  fetch: JSON_503,
  connect: JSON_503,
  websocket: JSON_503,
  // Inside an intercepted tunnel: 503 text (transports §2.9 step 5), IP allowlist only.
  intercept: {status: 503, body: () => 'kill switch active', allowlist: true},
  // The reverse proxy's own 503 JSON (its block body for the detail), no exemption (§4.3 step 2).
  reverse: {status: 503, allowlist: false},
}

/** Whether the switch refuses a request from `clientIp` now (polls the sources: a sentinel file is read here). */
export function killSwitchRefuses(ports: KillSwitchPort & SnapshotSource, clientIp: string, allowlist: boolean): boolean {
  if (!ports.killSwitch.poll().active) return false
  return !allowlist || !killSwitchExempts(ports, clientIp)
}

/**
 * Whether `kill_switch.allowlist_ips` exempts `clientIp` (runtime §11.2: all its traffic, egress
 * included) on a transport that honours it. The registry of live work (tunnels, WebSockets,
 * streaming responses) asks this when the switch comes on, and keeps an exempt client's going.
 */
export function killSwitchExempts(ports: SnapshotSource, clientIp: string): boolean {
  const ips = ports.snapshot().config.kill_switch.allowlist_ips
  return ips.length > 0 && ipInAnyCidr(clientIp, ips)
}

/** Synchronous: a transport that meets the switch again mid-way (after a dial, after the upstream answered) reads its verdict at once. */
export const killSwitchStage: Omit<Stage, 'run'> & {run(ctx: RequestGateContext): boolean} = {
  id: 'kill_switch',
  run(ctx) {
    if (!killSwitchRefuses(ctx.ports, ctx.b.clientIp, KILL_SWITCH_ANSWERS[ctx.b.transport].allowlist)) return false
    answerKillSwitch(ctx)
    return true
  },
}

/**
 * The transport's kill-switch answer, recorded then sent, without asking the switch again: for
 * in-flight work its activation cuts (the registry of live work has judged the client already).
 */
export function answerKillSwitch(ctx: RequestGateContext): void {
  const a = KILL_SWITCH_ANSWERS[ctx.b.transport]
  const k = KILL_SWITCH_BLOCK
  ctx.block({stage: k.stage, layer: k.layer, detail: k.detail, status: a.status, reason: k.reason, body: a.body?.(ctx.ports.killSwitch.message)})
}

/**
 * What an exchange the gate let through registers with the kill switch while it waits on its
 * upstream (relay/exchange-cut.ts `forResponse`): the live-work registry, its client, whether
 * `kill_switch.allowlist_ips` exempts that client on this transport, and the transport's block.
 */
export function killSwitchCut(ctx: RequestGateContext): {readonly registry: StreamRegistry; readonly clientIp: string; readonly exemptable: boolean; readonly answer: () => void} {
  return {registry: ctx.ports, clientIp: ctx.b.clientIp, exemptable: KILL_SWITCH_ANSWERS[ctx.b.transport].allowlist, answer: () => answerKillSwitch(ctx)}
}
