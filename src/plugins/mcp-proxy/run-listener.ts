/**
 * `pipelock run --mcp-listen ADDR --mcp-upstream URL` (spec mcp.md §2.9): the HTTP listener of
 * `mcp proxy --listen` (§3.3), hosted inside the run. Nothing is re-implemented: every request
 * goes through the same `decideRequest`/`decideResponse`, over a runtime built from the run's
 * current config snapshot (so a reload applies to the next request) with the run's scanner and
 * all four kill-switch sources; the decisions land in the run's receipt chain, capture directory,
 * audit log and `/metrics`, and the live contract is the run's hot-swapped contract runtime.
 * Differences from `mcp proxy --listen` (§2.9): mode "listener" (auto-enable, no response-scanning
 * fallback), contract agent always `_default`, denial-of-wallet budgets per bound profile.
 */
import {systemClock} from '../canonical/index.js'
import {resolveSalt} from '../capture/index.js'
import {configuredListeners, listenersCollide, parseHostPort, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {DecisionFanout, type DecisionSink} from '../decision/index.js'
import {openCaptureSink, type CaptureSink, type HostedListener, type RunAttachment, type RunHost} from '../proxy/index.js'
import {mcpContractGate, serverIdentity} from './contract-gate.js'
import {notAppliedToMcp} from './features.js'
import {startMcpListener} from './http-listener.js'
import {listenExposure} from './listen-exposure.js'
import {StderrRecorder} from './recorder.js'
import {resolveMcpRuntime} from './resolve.js'
import {mcpRuntimeWith} from './run-runtime.js'
import type {McpRuntime} from './runtime.js'

export interface RunMcpListenerOptions {
  readonly listen: string
  /** Checked by the command (http/https with a host). */
  readonly upstream: string
}

const AGENT = '_default' // mcp.md §1.2: `run --mcp-listen` always uses the default contract agent.

/** §2.9 flag rules, in the reference's words; returns the listener options or undefined. */
export function mcpListenFlags(listen: string | undefined, upstream: string | undefined): RunMcpListenerOptions | undefined {
  if (listen !== undefined && upstream === undefined) throw new PipelockError('USAGE', '--mcp-listen requires --mcp-upstream')
  if (listen === undefined && upstream !== undefined) throw new PipelockError('USAGE', '--mcp-upstream requires --mcp-listen')
  if (listen === undefined || upstream === undefined) return undefined
  if (parseHostPort(listen) === undefined) throw new PipelockError('USAGE', `--mcp-listen "${listen}": want host:port (port 0 picks a free port)`)
  let u: URL | undefined
  try {
    u = new URL(upstream)
  } catch {
    u = undefined
  }
  if (u === undefined || (u.protocol !== 'http:' && u.protocol !== 'https:') || u.host === '') {
    throw new PipelockError('USAGE', `invalid --mcp-upstream "${upstream}": must be http:// or https:// with a host`)
  }
  return {listen, upstream}
}

export function mcpRunAttachment(o: RunMcpListenerOptions): RunAttachment {
  return {
    // The redirect action runs on the listener like on every MCP transport (mcp-proxy/redirect.ts).
    check: (c) => {
      resolveMcpRuntime(c, 'listener')
      assertOwnAddress(o.listen, c)
    },
    start: (host) => startRunListener(o, host),
  }
}

/** `--mcp-listen` on an address another of the run's listeners binds failed after those were open. */
function assertOwnAddress(listen: string, c: PipelockConfig): void {
  const agents = Object.entries(c.agents).flatMap(([n, p]) => (p.listeners ?? []).map((addr) => ({field: `agents.${n}.listeners`, addr})))
  const hit = [...configuredListeners(c), ...agents].find((l) => listenersCollide(listen, l.addr))
  if (hit !== undefined) {
    throw new PipelockError('USAGE', `--mcp-listen "${listen}" collides with ${hit.field} ("${hit.addr}"): pipelock opens both, and the second bind would fail (address in use); use a different port`)
  }
}

async function startRunListener(o: RunMcpListenerOptions, host: RunHost): Promise<HostedListener> {
  const {server} = host
  const first = server.snapshot()
  const resolved = resolveMcpRuntime(first.config, 'listener')
  for (const l of resolved.lines) host.stderr(l)
  const exposure = listenExposure(o.listen)
  if (exposure !== null) host.stderr(`WARNING: --mcp-listen: ${exposure}`)
  const skipped = notAppliedToMcp(resolved.config)
  if (skipped.length > 0) host.stderr(`pipelock: note: ${skipped.join(', ')} apply to HTTP traffic only; the MCP listener does not apply them to MCP messages in this version`)

  const identity = serverIdentity([], o.upstream)
  const contract = server.contracts === null ? null : mcpContractGate({runtime: server.contracts, agent: AGENT, server: identity, upstream: o.upstream, unlocked: () => server.snapshot().config.learn_lock.unlocked_agents})
  const up = contract?.upstream()
  if (up?.block != null) throw new PipelockError('CONTRACT_UPSTREAM_DENIED', `contract upstream denied: ${up.block.reason}`)

  // One runtime per config snapshot: a reload (SIGHUP, file watch) applies to the next request.
  const now = (): number => server.nowMs()
  let last: {snap: unknown; view: {config: PipelockConfig; runtime: McpRuntime}} | undefined
  const current = (): {config: PipelockConfig; runtime: McpRuntime} => {
    const snap = server.snapshot()
    if (last?.snap !== snap) {
      const config = snap === first ? resolved.config : resolveMcpRuntime(snap.config, 'listener').config
      const base = mcpRuntimeWith(config, snap, server.killSwitch, ['config', 'api', 'signal', 'sentinel'], now, host.stderr)
      last?.view.runtime.offload.retire()
      last = {snap, view: {config, runtime: {...base, deps: {...base.deps, contract}}}}
    }
    return last.view
  }

  // One fan-out: the tool-call Decisions go to the run's own sinks — the same instances as its
  // HTTP requests (`server.sink`: audit log and so its emitters, /metrics, the receipt chains) —
  // plus the wrap's stderr lines and a capture sink of the same class told the MCP agent and
  // server (the run's capture sink does not know which MCP server a call went to).
  const sinks: DecisionSink[] = [new StderrRecorder(host.stderr), server.sink]
  let capture: CaptureSink | undefined
  if (host.captureDir !== undefined) {
    capture = openCaptureSink({
      dir: host.captureDir, clock: systemClock, build: host.build, raw: host.captureRaw,
      // The hash the listener started with, the scanner of the current snapshot.
      snapshot: () => ({hash: first.hash, scanner: current().runtime.deps.scanner}),
      salt: host.captureRaw ? undefined : resolveSalt(first.config.learn.privacy.salt_source, host.env),
      toolCalls: {agent: AGENT, server: identity, invocation: 1},
    })
    sinks.push(capture)
  }

  const view = current()
  let listener
  try {
    listener = await startMcpListener({listen: o.listen, upstream: o.upstream, config: view.config, runtime: view.runtime, current, recorder: new DecisionFanout(sinks), log: host.stderr})
  } catch (err) {
    capture?.close()
    throw new PipelockError('LISTEN_FAILED', `MCP listener bind ${o.listen}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  return {
    address: listener.address,
    upstream: displayUpstream(o.upstream),
    async close(): Promise<void> {
      await listener.close()
      capture?.close()
      await last?.view.runtime.offload.close()
    },
  }
}

/** The banner never shows credentials in the upstream URL. */
function displayUpstream(upstream: string): string {
  const u = new URL(upstream)
  if (u.username === '' && u.password === '') return upstream
  u.username = ''
  u.password = ''
  return u.toString()
}
