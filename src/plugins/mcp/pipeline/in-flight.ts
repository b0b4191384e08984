/**
 * The calls of a session state that hold a slot of their tracker's `max_concurrent_tool_calls`:
 * a forwarded `tools/call` with an id, until its response passes the response gate (any
 * verdict: the server has answered), or the transport settles it: an exchange that ended with no
 * response (an upstream failure, a listener request whose client went away). The stdio and
 * WebSocket wraps have one client each, whose tracker ends with the wrap.
 * Kept beside the state, not in it: the HTTP listener's per-request states are copies of one
 * shared state, and two clients may use the same id.
 */
import type {McpSessionState} from './settings.js'

const HELD = new WeakMap<McpSessionState, Map<string, () => void>>()

/** The forwarded call `id` of `state` holds `release` until it is settled (a reused id settles the earlier call). */
export function holdCall(state: McpSessionState, id: string, release: () => void): void {
  let calls = HELD.get(state)
  if (calls === undefined) HELD.set(state, (calls = new Map()))
  calls.get(id)?.()
  calls.set(id, release)
}

/** The call `id` of `state` is over: its slot is free (nothing when it holds none). */
export function settleCall(state: McpSessionState, id: string | null): void {
  if (id === null) return
  const calls = HELD.get(state)
  const release = calls?.get(id)
  if (release === undefined) return
  calls!.delete(id)
  release()
}

/** Every call of `state` is over (its exchange or its wrap ended). */
export function settleCalls(state: McpSessionState): void {
  const calls = HELD.get(state)
  if (calls === undefined) return
  HELD.delete(state)
  for (const release of calls.values()) release()
}
