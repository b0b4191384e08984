/**
 * `pipelock run` as a service (§1): load and validate the config (with `--mode` / `--listen`
 * overrides), refuse enabled-but-unimplemented features, start the listeners, print the banner,
 * wire signals and hot reload, and resolve with the exit code when the process should stop.
 */
import path from 'node:path'
import {systemClock} from '../canonical/index.js'
import {ContractRuntime, watchStore, type StoreWatch} from '../gate/index.js'
import {
  ConfigFieldError, ConfigReloader, configHash, DEFAULT_PROFILE, formatWarning, loadConfig, loadPresetConfig, validateConfig,
  type LoadedConfig, type PipelockConfig, type PresetName,
} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {AuditWriter} from './audit-log.js'
import {AuditSinks} from './audit-sinks.js'
import {LiveCapture} from './live-capture.js'
import type {DecisionSink} from './decision.js'
import {adminApiOffLine, containerWarning, EMBEDDED_ROUTES_LINE, envelopeLines, startBanner} from './banner.js'
import {agentListenerLines} from './agent-listeners.js'
import {licenseLines, type RunPhase} from './features.js'
import {inertSectionsNote, mcpReloadScope} from './inert-features.js'
import {assertRunnable} from './runnable.js'
import {openCaptureSink, type CaptureSink} from './capture-sink.js'
import {refusedClaimLine, unboundCaptureWarning} from './capture-identity.js'
import {PolicyChangeLog} from './policy-change.js'
import {ExceptionStore, type ExceptionChange} from './exception-store.js'
import type {PolicyHooks} from './policy-api.js'
import {randomBytes} from 'node:crypto'
import {openRecorderSink} from './recorder-sink.js'
import {recorderSubject, WriteHealthReport} from './write-health.js'
import {RetentionReport} from './retention-report.js'
import type {DecisionReceiptFields} from '../recorder/index.js'
import {startEmission} from './emission.js'
import {ProxyServer, type ListenAddresses} from './server.js'
import type {ScanApiServer} from './scan-api/listener.js'
import {getaddrinfoAll} from './ssrf-dialer.js'
import {loadFeature} from './feature-load.js'
import {configFileModeWarnings, killSwitchOnWarning, loopbackBindingWarning, weakApiTokenWarning} from './start-warnings.js'
import {ruleBundleLines} from './rule-bundles.js'
import {parseReverseUpstream} from './reverse/url.js'
import type {HostedListener, RunAttachment} from './run-attachment.js'

export interface RunOptions {
  readonly configFile?: string
  /** A shipped preset instead of a file (`run --preset`); never together with configFile. */
  readonly preset?: PresetName
  readonly mode?: string
  readonly listen?: string
  /** `--reverse-proxy --reverse-upstream U [--reverse-listen L]` (transports §4.1). */
  readonly reverse?: {readonly upstream: string; readonly listen: string}
  readonly agentArgs: readonly string[]
  readonly version: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Where human lines go (stderr). */
  readonly stderr: (line: string) => void
  /** Where the audit log goes when `logging.output` is stdout/both. */
  readonly stdout: AuditWriter
  /** Whether the stream behind `stdout` is a terminal (`logging.format: text` colours only then, §7.1). */
  readonly stdoutIsTty?: boolean
  /** Further consumers of every request's Decision (flight recorder, capture) — hook point for later phases. */
  readonly sinks?: readonly DecisionSink[]
  /** Capture directory for learn-and-lock (`--capture-output`, `learn observe --capture-dir`); overrides `learn.capture_dir`. */
  readonly captureDir?: string
  /** Capture samples and query strings as sent (secrets included). */
  readonly captureRaw?: boolean
  /** `--capture-escrow-public-key`: dlp and response payloads sealed into capture sidecars. */
  readonly captureEscrowPublicKey?: Uint8Array
  /** Stop capturing after this long (ms); with `exitAfterCapture` the proxy stops too (`learn observe`). */
  readonly captureDurationMs?: number
  readonly exitAfterCapture?: boolean
  /** Build commit for capture records' `build_sha`. */
  readonly buildSha?: string
  /** `run --change-note`: justification of the start-up `config_change` record (operations.md §8.2). */
  readonly changeNote?: string
  /** `--mcp-listen/--mcp-upstream`: the MCP HTTP listener hosted in this run (mcp.md §2.9). */
  readonly mcpListener?: RunAttachment
  /** Called just before the contract store is read at start-up (learn_lock on): `run` gives V8 its compilers back there. */
  readonly beforeContractStore?: () => void
  /**
   * The proxy embedded by `pipelock sandbox` / `mcp proxy --sandbox`: it serves the sandbox's
   * bridge only. The forward proxy is on whatever the config says (containment.md §2.7, "forward
   * proxy forced on in memory"), and the config's other listeners (metrics, admin API, reverse
   * proxy, agent listeners) stay closed, so a config shared with a running `pipelock run` does
   * not collide with its ports.
   */
  readonly embedded?: boolean
  /**
   * The agent the embedder was launched for (`mcp proxy --sandbox --agent`): with `embedded`,
   * every request is that agent's (its profile, session and receipts' actor), whatever the
   * sandboxed process declares. Absent or `_default`: the process's own declaration, as before.
   */
  readonly embeddedAgent?: string
  /** What the banner's `Agents:` line says when the embedder gives its agents another address (the sandbox's bridge). */
  readonly agentsLine?: string
}

export interface RunningProxy {
  readonly server: ProxyServer
  readonly addresses: ListenAddresses
  /** Resolves when a SIGINT/SIGTERM shutdown has completed. */
  readonly done: Promise<number>
  stop(): Promise<void>
  /**
   * Signs a receipt for an event the proxy did not decide (the file sentry of `pipelock sandbox`,
   * which embeds this proxy); absent without signed receipts.
   */
  readonly receipt?: (fields: DecisionReceiptFields) => void
}

/** Loads the config, applies the flag overrides and re-validates (§1.2 step 1). */
export function loadRunConfig(opts: Pick<RunOptions, 'configFile' | 'preset' | 'mode' | 'listen' | 'env' | 'reverse' | 'embedded' | 'embeddedAgent'>): LoadedConfig {
  const loaded = opts.preset !== undefined ? loadPresetConfig(opts.preset, {env: opts.env}) : loadConfig(opts.configFile, {env: opts.env})
  if (opts.mode === undefined && opts.listen === undefined && opts.reverse === undefined && opts.embedded !== true) return loaded
  // Each flag that replaces part of the file, in words and as the change it makes.
  const flags: Array<{flag: string; apply: (c: PipelockConfig) => void}> = []
  if (opts.mode !== undefined) flags.push({flag: `--mode ${opts.mode}`, apply: (c) => void (c.mode = opts.mode!)})
  if (opts.listen !== undefined) flags.push({flag: `--listen ${opts.listen}`, apply: (c) => void (c.fetch_proxy.listen = opts.listen!)})
  // --reverse-proxy overwrites all three fields, listen included (transports §4.1, replicated quirk).
  if (opts.reverse !== undefined) flags.push({flag: '--reverse-proxy', apply: (c) => void (c.reverse_proxy = {enabled: true, listen: opts.reverse!.listen, upstream: opts.reverse!.upstream})})
  const overridden = (apply: ReadonlyArray<(c: PipelockConfig) => void>): PipelockConfig => {
    const config = structuredClone(loaded.config) as PipelockConfig
    if (opts.embedded === true) {
      config.forward_proxy.enabled = true
      config.metrics_listen = ''
      config.kill_switch.api_listen = ''
      config.reverse_proxy.enabled = false
      // Agent listeners stay in the config, not opened (server.ts): their profiles stay bound, so
      // the sandboxed process cannot claim one by name (emptied, they had become claimable).
      // Its one client is the sandboxed process, whose every request arrives from the bridge on
      // 127.0.0.1: an address exempt from the kill switch here could only exempt the agent.
      config.kill_switch.allowlist_ips = []
      // The address cannot say which agent the sandboxed process is (compose.ts); the launch can.
      if (opts.embeddedAgent !== undefined && opts.embeddedAgent !== '' && opts.embeddedAgent !== DEFAULT_PROFILE) {
        config.default_agent_identity = opts.embeddedAgent
        config.bind_default_agent_identity = true
      }
    }
    for (const a of apply) a(config)
    return config
  }
  const config = overridden(flags.map((f) => f.apply))
  let warnings
  try {
    warnings = validateConfig(config, {env: opts.env})
  } catch (err) {
    if (err instanceof ConfigFieldError && flags.length > 0) {
      // The file was valid on its own (it loaded): name the flag whose value makes it invalid —
      // the one that fails alone, else all of them together.
      const alone = flags.find((f) => {
        try {
          validateConfig(overridden([f.apply]), {env: opts.env})
          return false
        } catch (e) {
          return e instanceof ConfigFieldError
        }
      })
      const blamed = alone !== undefined ? alone.flag : flags.map((f) => f.flag).join(' with ')
      throw new PipelockError('CONFIG_INVALID', `invalid config after ${blamed}: ${err.message}`, {
        hint: `${loaded.path ?? 'the config'} is valid on its own; the command-line override ${blamed} makes it invalid`,
      })
    }
    if (err instanceof ConfigFieldError) throw new PipelockError('CONFIG_INVALID', `invalid config: ${err.message}`)
    throw err
  }
  // Validation warnings about the file as written that no longer hold after the overrides (the
  // embedded run's forward proxy makes interception act) are dropped; the others are kept.
  const after = new Set(warnings.map(formatWarning))
  const stale = new Set(validateConfig(loaded.config, {env: opts.env}).map(formatWarning).filter((w) => !after.has(w)))
  const kept = loaded.warnings.filter((w) => !stale.has(formatWarning(w)))
  const seen = new Set(kept.map(formatWarning))
  const merged = [...kept, ...warnings.filter((w) => !seen.has(formatWarning(w)))]
  // The document goes along: a reload refuses a file that sets nothing (reloader.ts), flags or not.
  return {config, warnings: merged, ...(loaded.path !== undefined ? {path: loaded.path} : {}), hash: configHash(config), ...(loaded.document !== undefined ? {document: loaded.document} : {})}
}

/** The hosted listener's own refusals, then the run's (the same function `pipelock check` calls); returns its warnings. */
function assertRunnableWith(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, hosted?: RunAttachment, phase: RunPhase = 'start'): string[] {
  hosted?.check(c)
  return assertRunnable(c, env, phase)
}

export async function startRun(opts: RunOptions): Promise<RunningProxy> {
  const loaded = loadRunConfig(opts)
  const addressWarnings = assertRunnableWith(loaded.config, opts.env, opts.mcpListener)
  for (const w of loaded.warnings) opts.stderr(formatWarning(w))
  for (const w of addressWarnings) opts.stderr(w)
  for (const w of configFileModeWarnings(loaded)) opts.stderr(w)
  const switchedOn = killSwitchOnWarning(loaded.config)
  if (switchedOn !== null) opts.stderr(switchedOn)
  // The embedded proxy binds no one by address (compose.ts); its owner says so at launch.
  const loopbackBound = opts.embedded === true ? null : loopbackBindingWarning(loaded.config)
  if (loopbackBound !== null) opts.stderr(loopbackBound)
  // With an MCP listener the MCP sections are in force, not inert.
  const inert = opts.mcpListener === undefined ? inertSectionsNote(loaded.config, {embedded: opts.embedded === true, scanApi: loaded.config.scan_api.listen !== '' && opts.embedded !== true}) : null
  if (inert !== null) opts.stderr(inert)
  const cw = containerWarning(opts.env)
  if (cw !== null) opts.stderr(cw)

  // Enabled features' code, loaded before anything is opened (a failed load refuses start-up).
  const webSocketProxy = loaded.config.websocket_proxy.enabled
    ? (await loadFeature('websocket_proxy', () => import('./websocket/handshake.js'))).WebSocketProxy
    : undefined
  // logging.format/output/file: switched by a reload that changes them (audit-sinks.ts).
  const auditSinks = new AuditSinks({stdout: opts.stdout, color: opts.stdoutIsTty === true && !(opts.env.NO_COLOR ?? ''), stderr: opts.stderr}, loaded.config.logging)
  const writers = auditSinks.writers()
  // learn_lock (learn-lifecycle §7.2): the store must load at start-up, or the proxy does not start.
  const ll = loaded.config.learn_lock
  if (ll.enabled) opts.beforeContractStore?.()
  const contracts = ll.enabled ? ContractRuntime.open(ll, systemClock) : null
  const retention = new RetentionReport(loaded.config.flight_recorder.retention_days)
  const recorderHealth = new WriteHealthReport(recorderSubject(loaded.config.flight_recorder.dir), opts.stderr)
  const recorder = await openRecorderSink(loaded.config, loaded.hash, {
    evidenceKeyId: (hex) => contracts?.rosterKeyId(hex, 'receipt-signing'),
    onRetention: (r) => retention.record(r),
    onWriteHealth: (c) => recorderHealth.record(c),
    onReceiptError: (m) => opts.stderr(`pipelock: ${m}`),
  })
  // Capture (runtime §21.3): `--capture-output` / `learn observe`, or `learn.enabled` with its
  // capture_dir; a reload that changes learn.enabled, capture_dir or the salt source opens, closes
  // or moves it (live-capture.ts).
  let server: ProxyServer | undefined
  if (opts.captureEscrowPublicKey !== undefined && opts.captureDir === undefined && !loaded.config.learn.enabled) {
    throw new PipelockError('USAGE', '--capture-escrow-public-key needs a capture directory (--capture-output, or learn.enabled with learn.capture_dir)')
  }
  const capture = new LiveCapture({
    ...(opts.captureDir !== undefined ? {fixedDir: opts.captureDir} : {}),
    raw: opts.captureRaw === true,
    env: opts.env,
    open: (dir, salt) => openCaptureSink({
      dir,
      clock: systemClock,
      snapshot: () => server!.snapshot(),
      build: {version: opts.version, sha: opts.buildSha ?? ''},
      raw: opts.captureRaw === true,
      salt,
      ...(opts.captureEscrowPublicKey === undefined ? {} : {escrowPublicKey: opts.captureEscrowPublicKey}),
      onClaimRefused: (agent, ip) => opts.stderr(refusedClaimLine(agent, ip)),
    }),
  }, loaded.config)
  const captureDir = capture.dir
  const sinks = [...(opts.sinks ?? []), ...(recorder ? [recorder] : []), capture]
  // Scoped exceptions (issue 14) need the signing recorder: every use is a signed receipt, and
  // the grants persist beside the evidence. The trail (`changes`) exists once the proxy started.
  let changes: PolicyChangeLog | undefined
  let reloader: ConfigReloader | undefined
  let exceptions: ExceptionStore | null = null
  try {
    if (recorder?.configChange !== undefined) exceptions = openExceptionStore(loaded.config.flight_recorder.dir, (c) => changes?.exception(c))
  } catch (err) {
    recorder?.close()
    capture?.close()
    throw err
  }
  const policy: PolicyHooks = {note: (n, sha) => changes!.bindNote(n, sha), reload: () => (reloader === undefined ? false : (reloader.reloadNow(), true))}
  server = new ProxyServer({loaded, version: opts.version, env: opts.env, audit: writers, sinks, contracts, exceptions, policy: () => (changes === undefined ? null : policy), ...(webSocketProxy !== undefined ? {webSocketProxy} : {}),
    egressOnly: opts.embedded === true,
    configDrift: () => changes?.drift(),
    configRestartPending: () => changes?.restartPending() ?? [],
    ...(recorder !== undefined ? {recorderHealth: recorder.writeHealth} : {}),
  })
  server.metrics.addRenderer((out) => capture.renderMetrics(out))
  if (recorder !== undefined && loaded.config.flight_recorder.retention_days > 0) retention.attach(server.audit, server.metrics)
  if (recorder !== undefined) recorderHealth.attach(server.audit, server.metrics, recorder.writeHealth)
  auditSinks.attach(server.audit, server.metrics)
  // Issue 34: 1 while the running policy is not the config file's: a reload refused the file, or
  // kept the running value of restart-only fields it changes.
  server.metrics.addRenderer((out) => {
    const apart = changes !== undefined && (changes.drift() !== undefined || changes.restartPending().length > 0)
    out.push('# HELP pipelock_config_drift 1 when the config file on disk differs from the running policy: a reload refused it, or held restart-only fields.', '# TYPE pipelock_config_drift gauge', `pipelock_config_drift ${apart ? 1 : 0}`)
  })
  const emission = await startEmission(server, loaded.config, {version: opts.version, stderr: opts.stderr}).catch(async (err: unknown) => {
    await server!.close(0)
    recorder?.close()
    capture?.close()
    throw err
  })
  // mcp.md §2.9: the MCP listener is bound before the main proxy starts.
  let mcp: HostedListener | undefined
  if (opts.mcpListener !== undefined) {
    try {
      mcp = await opts.mcpListener.start({
        server, chains: recorder?.chains, captureDir, captureRaw: opts.captureRaw === true, env: opts.env,
        build: {version: opts.version, sha: opts.buildSha ?? ''}, stderr: opts.stderr,
      })
    } catch (err) {
      await server.close(0)
      recorder?.close()
      capture?.close()
      throw err
    }
  }
  let addresses: ListenAddresses
  try {
    addresses = await server.start()
  } catch (err) {
    await mcp?.close()
    await server.close(0)
    recorder?.close()
    capture?.close()
    if (err instanceof PipelockError) throw err
    const e = err as NodeJS.ErrnoException
    throw new PipelockError('LISTEN_FAILED', `cannot listen: ${e.code ?? e.message}`, {hint: 'pick a free address with --listen host:port'})
  }
  // scanners-extra §1.3: the scan API's own listener, bound after the proxy's (a failure stops the run).
  let scanApi: ScanApiServer | undefined
  if (loaded.config.scan_api.listen !== '' && opts.embedded !== true) {
    // Loaded only when configured: its tool_call kind pulls in the MCP scanners (start-up laziness, issue 18).
    const {ScanApiServer: Api} = await loadFeature('scan_api', () => import('./scan-api/listener.js'))
    scanApi = new Api({snapshot: () => server!.snapshot(), killSwitch: server.killSwitch, version: opts.version, resolver: getaddrinfoAll, nowMs: () => server!.nowMs()})
    try {
      addresses = {...addresses, scanApi: await scanApi.listen()}
    } catch (err) {
      await mcp?.close()
      await server.close(0)
      recorder?.close()
      capture?.close()
      throw err
    }
    server.metrics.addRenderer((out) => scanApi!.renderMetrics(out))
  }
  const reverse = addresses.reverse !== undefined ? {listen: addresses.reverse, upstream: parseReverseUpstream(loaded.config.reverse_proxy.upstream)?.display ?? ''} : undefined
  // The banner tells a supervisor the proxy is up: a SIGINT or SIGTERM from then on stops it
  // cleanly. Until the handlers below are set, one is remembered and acted on when they are
  // (a test that stopped the proxy on its banner saw it killed, under load).
  let stopAsked = false
  const stopEarly = (): void => void (stopAsked = true)
  const early: ReadonlyArray<NodeJS.Signals> = ['SIGINT', 'SIGTERM']
  for (const signal of early) process.on(signal, stopEarly)
  const dropEarly = (): void => {
    for (const signal of early) process.off(signal, stopEarly)
  }
  for (const line of startBanner({
    version: opts.version, config: loaded.config, listen: addresses.main, apiListen: addresses.api, metricsListen: addresses.metrics, ...(reverse ? {reverse} : {}),
    ...(mcp ? {mcp: {listen: mcp.address, upstream: mcp.upstream}} : {}),
    configFile: loaded.path, agentArgs: opts.agentArgs, apiTokenSet: server.apiToken() !== '', ...(opts.agentsLine !== undefined ? {agentsLine: opts.agentsLine} : {}),
    ...(opts.embedded === true ? {egressOnly: true} : {}),
  })) opts.stderr(line)
  const agentLines = agentListenerLines(addresses.agents ?? [])
  for (const line of [...agentLines.banner, ...agentLines.stderr]) opts.stderr(line)
  const apiOff = opts.embedded === true ? EMBEDDED_ROUTES_LINE : adminApiOffLine(loaded.config, server.apiToken() !== '')
  if (apiOff !== null) opts.stderr(apiOff)
  for (const line of envelopeLines(loaded.config, addresses.main)) opts.stderr(line)
  for (const line of licenseLines(loaded.config, opts.env)) opts.stderr(line)
  if (addresses.metrics !== undefined) opts.stderr(`pipelock: metrics listening on ${addresses.metrics}`)
  if (addresses.scanApi !== undefined) opts.stderr(`pipelock: scan API listening on ${addresses.scanApi}`)
  if (reverse !== undefined) opts.stderr(`pipelock: reverse proxy listening on ${reverse.listen} -> ${reverse.upstream}`)
  if (recorder !== undefined) opts.stderr(`pipelock: flight recorder: ${recorder.description}`)
  for (const line of ruleBundleLines(loaded.config, opts.env, opts.version)) opts.stderr(line)
  const captureLines = (sink: CaptureSink, c: PipelockConfig): void => {
    opts.stderr(`pipelock: capture: ${sink.description}`)
    if (opts.captureRaw === true) opts.stderr('WARNING: --capture-raw: capture files hold request samples and query strings as sent, secrets included; protect and delete them')
    const unbound = unboundCaptureWarning(c)
    if (unbound !== undefined) opts.stderr(unbound)
  }
  if (capture.current !== undefined) captureLines(capture.current, loaded.config)
  const weakToken = weakApiTokenWarning(loaded.config, opts.env)
  if (weakToken !== null) opts.stderr(weakToken)
  let storeWatch: StoreWatch | undefined
  /** What the start opened, closed: the watchers, then the listeners (drained ≤ drainMs), then the evidence. */
  const release = async (drainMs: number): Promise<void> => {
    await storeWatch?.close()
    await reloader?.close()
    await Promise.all([server.close(drainMs), mcp?.close(), scanApi?.close(drainMs)])
    recorder?.close() // after the drain: the last decisions are recorded, then the run is closed
    capture?.close() // flush the queue, final checkpoints, drop sentinel
  }
  // Listening already, the banner printed: a failure from here to the signal handlers below
  // closes what the start opened before it is reported, or the process would stay up with its
  // listeners open and no proxy behind them (a damaged config-state.json once did that).
  try {
    if (contracts !== null) {
      const s = contracts.status()
      opts.stderr(`pipelock: learn_lock: mode=${s.mode} store=${s.storeDir} ${s.generation === 0n ? 'no contract promoted yet' : `generation=${s.generation} manifest=${s.manifestHash}`}`)
      if (s.mode === 'live' && !loaded.config.bind_default_agent_identity && !loaded.config.learn_lock.ignore_self_declared_agents) {
        opts.stderr('WARNING: learn_lock live: the contract is chosen by the agent name each agent declares itself (X-Pipelock-Agent); set bind_default_agent_identity or learn_lock.ignore_self_declared_agents to pin it')
      }
      // pipelock run watches the store itself (the reference never starts its watcher): a promote or
      // rollback takes effect on the next request, without a restart.
      storeWatch = watchStore({
        storeDir: s.storeDir,
        reload: () => {
          const before = contracts.status()
          const r = contracts.reload()
          const after = contracts.status()
          if (r.error !== undefined) {
            opts.stderr(`pipelock: learn_lock: store reload failed (generation ${after.generation} stays in force): ${r.error}`)
            server!.audit.event('error', 'contract_reload', 'contract store reload failed', {outcome: r.outcome, detail: r.error, generation: Number(after.generation)})
          } else if (after.manifestHash !== before.manifestHash) {
            opts.stderr(`pipelock: learn_lock: generation ${after.generation} active (${after.manifestHash})`)
            server!.audit.event('info', 'contract_reload', 'contract store reloaded', {outcome: r.outcome, generation: Number(after.generation), manifest_hash: after.manifestHash})
          }
        },
        onError: (e) => {
          contracts.watchErrors++
          opts.stderr(`WARNING: learn_lock: store watch: ${e.message}`)
        },
      })
      await storeWatch.ready
    }
    server.audit.event('info', 'startup', 'pipelock started', {listen: addresses.main, mode: loaded.config.mode, version: opts.version, config_hash: loaded.hash})
    // operations.md §8.2: the policy-change trail (start-up diff against the last run's state, reloads).
    const fr = loaded.config.flight_recorder
    changes = new PolicyChangeLog({
      audit: () => server!.audit, stderr: opts.stderr, ...(fr.enabled && fr.dir !== '' ? {stateDir: fr.dir} : {}), ...(opts.changeNote !== undefined ? {cliNote: opts.changeNote} : {}),
      ...(recorder?.configChange !== undefined ? {receipt: recorder.configChange} : {}),
    })
    changes.startup(loaded)

    /**
     * A reload's settings applied outside the snapshot: the audit log's destination and capture.
     * Returns the fields whose running value stays because switching failed (the reload checked
     * them while loading, so only a change on disk in between gets here).
     */
    const applyLive = (c: PipelockConfig): string[] => {
      const kept: string[] = []
      try {
        const moved = auditSinks.apply(c.logging)
        if (moved.length > 0) opts.stderr(`pipelock: config reload: audit log now ${auditDestination(c.logging)}`)
      } catch (e) {
        opts.stderr(`WARNING: config reload: logging: ${(e as Error).message}; the audit log keeps writing where it did`)
        kept.push('logging.output', 'logging.file')
      }
      try {
        const before = capture.dir
        const moved = capture.apply(c)
        if (moved?.opened !== undefined) captureLines(moved.opened, c)
        else if (moved?.closed === true) opts.stderr(`pipelock: capture: stopped (was ${before}): learn.enabled is off`)
        // The MCP listener opened its own capture at start-up.
        if (moved !== undefined && mcp !== undefined) opts.stderr('WARNING: config reload: learn capture: the MCP listener (--mcp-listen) keeps the capture it started with until a restart')
      } catch (e) {
        opts.stderr(`WARNING: config reload: learn capture: ${(e as Error).message}; capture stays as it was`)
        kept.push('learn.capture_dir')
      }
      return kept
    }

    // The MCP listener and the scan API are bound at start: what of the MCP policy this run reads stays so.
    const runScope = mcpReloadScope({mcpListener: mcp !== undefined, scanApi: scanApi !== undefined})
    if (loaded.path !== undefined) {
      reloader = new ConfigReloader({
        path: loaded.path, initial: loaded,
        // A file this build refuses to run (a section it cannot enforce) fails to load like an
        // invalid one: the running policy, and the reloader's idea of it, stay as they were.
        load: (f) => {
          const next = loadRunConfig({configFile: f, mode: opts.mode, listen: opts.listen, env: opts.env, ...(opts.reverse ? {reverse: opts.reverse} : {}), ...(opts.embedded === true ? {embedded: true} : {}), ...(opts.embeddedAgent !== undefined ? {embeddedAgent: opts.embeddedAgent} : {})})
          assertRunnableWith(next.config, opts.env, opts.mcpListener, 'reload')
          // A new audit-log file or capture target that cannot be used refuses the reload, as it
          // refuses start-up: the running ones stay, and the drift says so.
          auditSinks.check(next.config.logging)
          capture.check(next.config)
          return next
        },
        // Issue 34: a strict-mode loosening applies when the operator's note is bound to the new file.
        downgradeAttested: (f) => changes!.hasBoundNote(f),
        ...(runScope !== undefined ? {runScope} : {}),
      })
      reloader.on('applied', (r) => {
        // The downgrade lines reach stderr through the reloader's own 'warning' events (below).
        // The audit log's destination first: the reload's own lines go where the file now says.
        const held = [...r.restartOnly, ...applyLive(r.config.config)]
        const {openTunnels: open, warnings} = server.applyConfig(r.config, held)
        for (const line of warnings) opts.stderr(`WARNING: config reload: ${line}`)
        // Their host was admitted under the previous policy and is not checked again (config.md, Hot reload).
        if (open > 0) opts.stderr(`pipelock: config reload: ${open} open ${open === 1 ? 'tunnel/relay keeps' : 'tunnels/relays keep'} the admission of the policy ${open === 1 ? 'it' : 'they'} opened under until ${open === 1 ? 'it closes' : 'they close'}`)
        emission.reload(r.config.config)
        // A new admin token gets the start-up warning when it is weak (the env token wins over both).
        const token = (c: PipelockConfig): string => opts.env.PIPELOCK_KILLSWITCH_API_TOKEN || c.kill_switch.api_token
        const weak = token(r.config.config) !== token(r.previous.config) ? weakApiTokenWarning(r.config.config, opts.env) : null
        if (weak !== null) opts.stderr(weak)
        changes!.applied(r.trigger === 'signal' ? 'sighup' : 'file_watch', r.config, r.downgrades, held)
      })
      reloader.on('rejected', (r) => {
        opts.stderr(r.message)
        // A refusal of a valid file is a policy decision worth a record; an unparsable file only logs (§8.2).
        if (r.error.message.startsWith('rejected:')) changes!.rejected(r.trigger === 'signal' ? 'sighup' : 'file_watch', loaded.path, r.error.message, r.refused)
        else {
          // A file that does not load is no policy decision (no config_change record), but the
          // running policy is no longer the file's: /health, /metrics and `check` say so, and so
          // does the audit log (the reference writes stderr only).
          changes!.unloadable(loaded.path, r.message.replace(/^pipelock: config reload failed: /, ''))
          server!.audit.event('warn', 'config_reload', 'config reload failed', {status: 'failed', detail: r.message.replace(/^pipelock: /, ''), config_path: loaded.path})
        }
      })
      // Same policy (within the de-duplication window): a `.change` written after the watcher applied the edit attests it.
      reloader.on('ignored', (r) => changes!.unchanged(r.trigger === 'signal' ? 'sighup' : 'file_watch', loaded.path))
      reloader.on('warning', (line) => opts.stderr(line))
    }
  } catch (err) {
    dropEarly()
    await release(0).catch(() => undefined) // the start-up error is the one reported
    auditSinks.close()
    await emission.close()
    throw err
  }

  let resolveDone: (code: number) => void = () => undefined
  const done = new Promise<number>((r) => (resolveDone = r))
  let stopping = false
  const stop = async (): Promise<void> => {
    if (stopping) return
    stopping = true
    for (const [event, handler] of processHandlers) process.off(event, handler)
    clearTimeout(captureTimer)
    // Both listeners drain (≤ 5 s) before the evidence is closed.
    await release(5000)
    server.audit.event('info', 'shutdown', 'pipelock stopped', {})
    server.audit.flush()
    auditSinks.close()
    await emission.close() // queued events are sent (≤ 10 s), then the sinks close
    opts.stderr('\nPipelock stopped.')
    resolveDone(0)
  }
  const onStop = (): void => void stop()
  const onHup = (): void => reloader?.reloadNow()
  const onUsr1 = (): void => {
    const on = server.killSwitch.toggleSignal()
    opts.stderr(`pipelock: kill switch ${on ? 'ACTIVATED' : 'DEACTIVATED'} via SIGUSR1`)
    server.audit.event('warn', 'kill_switch', `kill switch ${on ? 'ACTIVATED' : 'DEACTIVATED'} via SIGUSR1`, {source: 'signal', active: on})
  }
  // Last line of defence: a bug in one request's handling must not stop the proxy for every
  // other agent. It is reported (with its stack: it is a bug) and the process keeps serving.
  const onBug = (err: unknown): void => {
    opts.stderr(`pipelock: internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
    server.audit.event('error', 'error', 'internal error', {detail: err instanceof Error ? err.message : String(err)})
    server.audit.flush()
  }
  const processHandlers: ReadonlyArray<[string, (arg: unknown) => void]> = [
    ['uncaughtException', onBug], ['unhandledRejection', onBug],
    // An embedded proxy's owner (the sandbox, mcp proxy) owns the stop signals: they end its
    // agent first and stop this proxy after, so the agent is served while it shuts down, and a
    // SIGHUP, which ends the sandbox, is not also taken as a reload. Edits still reload (the watcher).
    ...(opts.embedded === true ? [] : [['SIGINT', onStop], ['SIGTERM', onStop], ['SIGHUP', onHup]] satisfies Array<[string, () => void]>),
    ['SIGUSR1', onUsr1],
  ]
  for (const [event, handler] of processHandlers) process.on(event, handler)
  dropEarly()
  // --capture-duration: stop observing (and, for learn observe, the proxy) after the given time.
  const captureTimer = opts.captureDurationMs !== undefined && capture.current !== undefined
    ? setTimeout(() => {
        if (opts.exitAfterCapture === true) {
          opts.stderr('pipelock: capture: duration reached; capture stopped, stopping the proxy (learn observe)')
          return void stop()
        }
        capture.close()
        opts.stderr('pipelock: capture: duration reached; capture stopped, the proxy keeps running')
      }, opts.captureDurationMs)
    : undefined
  // The file watcher starts after the signal handlers: SIGHUP reloads work even while it warms up.
  // A stop asked for during start-up (above) is acted on now; the watcher is then not started.
  if (stopAsked) void stop()
  else reloader?.start().catch((err: Error) => opts.stderr(`WARNING: config watcher: ${err.message}`))
  const emitter = recorder?.chains?.emitter
  return {
    server, addresses, done, stop,
    ...(emitter !== undefined ? {receipt: (f: DecisionReceiptFields) => {
      const before = emitter.failures
      emitter.emit(f)
      if (emitter.failures > before) opts.stderr(`pipelock: receipt emission failed: ${emitter.lastError ?? 'unknown error'}`)
    }} : {}),
  }
}

/** The exception store in the recorder's directory; an unreadable file refuses start-up (never silently dropped grants). */
function openExceptionStore(dir: string, onChange: (c: ExceptionChange) => void): ExceptionStore {
  try {
    return new ExceptionStore({dir, nowMs: () => Number(systemClock.nowNanos() / 1_000_000n), newId: () => `exc-${randomBytes(6).toString('hex')}`, onChange})
  } catch (e) {
    throw new PipelockError('EXCEPTION_STATE_INVALID', `scoped exceptions: cannot read ${path.join(dir, 'exceptions.json')}: ${(e as Error).message}`, {
      hint: 'fix or move the file aside (it holds grants and their remaining uses) and start again',
    })
  }
}

/** Where the audit log goes under `l`, for the reload's stderr line. */
function auditDestination(l: Pick<PipelockConfig['logging'], 'format' | 'output' | 'file'>): string {
  const std = `stdout (${l.format})`
  if (l.output === 'stdout') return `goes to ${std}`
  if (l.output === 'file') return `goes to ${l.file} (json)`
  return `goes to ${std} and ${l.file} (json)`
}
