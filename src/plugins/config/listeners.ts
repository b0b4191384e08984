/**
 * Every address `pipelock run` binds from the config, and whether two of them would collide: the
 * second bind would fail with EADDRINUSE against pipelock's own first listener, after `check` had
 * said the file was fine. Shared by validation (check, run, reload) and the `--mcp-listen` check.
 */
import {canonicalListener} from './agent-profiles.js'
import type {PipelockConfig} from './schema.js'

export interface ConfiguredListener {
  /** The field (or flag) that sets it, as messages name it. */
  readonly field: string
  readonly addr: string
}

/** The config's own listeners, in the order `pipelock run` binds them (agent listeners aside). */
export function configuredListeners(c: PipelockConfig): ConfiguredListener[] {
  const out: ConfiguredListener[] = [{field: 'fetch_proxy.listen', addr: c.fetch_proxy.listen}]
  if (c.kill_switch.api_listen !== '') out.push({field: 'kill_switch.api_listen', addr: c.kill_switch.api_listen})
  if (c.metrics_listen !== '') out.push({field: 'metrics_listen', addr: c.metrics_listen})
  if (c.reverse_proxy.enabled && c.reverse_proxy.listen !== '') out.push({field: 'reverse_proxy.listen', addr: c.reverse_proxy.listen})
  if (c.scan_api.listen !== '') out.push({field: 'scan_api.listen', addr: c.scan_api.listen})
  return out
}

/**
 * Whether binding both addresses would fail: the same port on the same address, or on any address
 * when one of them binds all interfaces. Port 0 (the kernel picks a free port) never collides;
 * `localhost` is compared as 127.0.0.1, the address it binds. Unparsable addresses are left to
 * their own check.
 */
export function listenersCollide(a: string, b: string): boolean {
  const x = canonicalListener(a.replace(/^localhost:/i, '127.0.0.1:'))
  const y = canonicalListener(b.replace(/^localhost:/i, '127.0.0.1:'))
  if (x === null || y === null || x.port === 0 || x.port !== y.port) return false
  return x.key === y.key || x.wildcard || y.wildcard
}

/** The first listener of `list` that collides with an earlier one: the later one, then the earlier. */
export function firstCollision(list: readonly ConfiguredListener[]): {later: ConfiguredListener; earlier: ConfiguredListener} | undefined {
  for (let i = 1; i < list.length; i++) {
    for (let j = 0; j < i; j++) if (listenersCollide(list[i]!.addr, list[j]!.addr)) return {later: list[i]!, earlier: list[j]!}
  }
  return undefined
}

/** The words of a collision (`reverse_proxy.listen: "…" …`). */
export function collisionMessage(later: ConfiguredListener, earlier: ConfiguredListener): string {
  return `"${later.addr}" collides with ${earlier.field} ("${earlier.addr}"): pipelock opens both, and the second bind would fail (address in use); use a different port`
}
