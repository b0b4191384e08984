/**
 * `pipelock run --mcp-listen ADDR --mcp-upstream URL` (spec mcp.md §2.9): the HTTP listener of
 * `mcp proxy --listen` (§3.3), hosted inside the run. Nothing is re-implemented: every request
 * goes through the same `decideRequest`/`decideResponse`, over a runtime built from the run's
 * current config snapshot (so a reload applies to the next request) with the run's scanner and
 * all four kill-switch sources; the decisions land in the run's receipt chain, capture directory,
 * audit log and `/metrics`, and the live contract is the run's hot-swapped contract runtime.
 * Differences from `mcp proxy --listen` (§2.9): mode "listener" (auto-enable, no response-scanning
 * fallback), contract agent always `_default`, no DoW checks.
 */
import {systemClock} from '../canonical/index.js'
import {resolveSalt} from '../capture/index.js'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {McpRecorder} from '../mcp/index.js'
import type {HostedListener, RunAttachment, RunHost} from '../proxy/index.js'
import {McpAuditSink} from './audit-sink.js'
import {McpCaptureSink} from './capture-sink.js'
import {mcpContractGate, serverIdentity} from './contract-gate.js'
import {notAppliedToMcp} from './features.js'
import {startMcpListener} from './http-listener.js'
import {McpReceiptSink} from './receipt-sink.js'
import {McpMetrics, RecorderFanout, StderrRecorder} from './recorder.js'
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
    check: (c) => void resolveMcpRuntime(c, 'listener'),
    start: (host) => startRunListener(o, host),
  }
}

async function startRunListener(o: RunMcpListenerOptions, host: RunHost): Promise<HostedListener> {
  const {server} = host
  const first = server.snapshot()
  const resolved = resolveMcpRuntime(first.config, 'listener')
  for (const l of resolved.lines) host.stderr(l)
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

  // The run's audit log (read per event: a reload may replace it) and /metrics read each McpDecision.
  const metrics = new McpMetrics()
  server.metrics.addRenderer((out) => metrics.render(out))
  const audit = new McpAuditSink({
    event: (level, event, message, fields) => server.audit.event(level, event, message, fields),
    blocked: (fields) => server.audit.blocked(fields),
  })
  const recorders: McpRecorder[] = [new StderrRecorder(host.stderr), metrics, audit]
  if (host.chains !== undefined) {
    recorders.push(new McpReceiptSink({chains: host.chains, agent: AGENT, onError: (m) => host.stderr(`pipelock: ${m}`)}))
  }
  let capture: McpCaptureSink | undefined
  if (host.captureDir !== undefined) {
    capture = new McpCaptureSink({
      dir: host.captureDir, clock: systemClock, configHash: first.hash, build: host.build, agent: AGENT, server: identity, invocation: 1, raw: host.captureRaw,
      salt: host.captureRaw ? undefined : resolveSalt(first.config.learn.privacy.salt_source, host.env),
      dlpHit: (text) => {
        const r = current().runtime.deps.scanner.scanTextForDlp(text)
        return r.matches.length > 0 || r.warnings.length > 0
      },
    })
    recorders.push(capture)
  }

  const view = current()
  let listener
  try {
    listener = await startMcpListener({listen: o.listen, upstream: o.upstream, config: view.config, runtime: view.runtime, current, recorder: new RecorderFanout(recorders), log: host.stderr})
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
