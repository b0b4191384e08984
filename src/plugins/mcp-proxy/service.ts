/**
 * The `mcp proxy` and `mcp scan` services (spec mcp.md §2, §13): load and resolve the config,
 * refuse what is not implemented, build the runtime, print the startup lines, run.
 *
 * A stdio wrap loads only what its config and flags use (bench: mcp, RSS per wrap): the HTTP and
 * WebSocket bridges, the HTTP listener, the evidence steps (learn_lock, flight_recorder, capture),
 * the session admin API and the binary-integrity check are each imported when asked for
 * (`loadFeature`: code that cannot be loaded refuses start-up, never runs without the feature).
 */
import type {Readable, Writable} from 'node:stream'
import {listenExposure} from './listen-exposure.js'
import {canaryEnvEntries, canaryLaunchLines, DEFAULT_PROFILE, documentSets, enabledFeatures, loadConfigOnDemand, mergeProfile, parseHostPort, type LoadedConfig, type PipelockConfig} from '../config/index.js'
import {PipelockError, shellWord} from '../errors/index.js'
import {renderScanJson, renderScanText, renderSummaryJson, renderSummaryText, scanServerLine, type ScanLineOptions, type ScanLineVerdict} from '../mcp/index.js'
import {buildChildEnv} from './child-env.js'
import {assertMcpImplemented, mcpConfigWarnings} from './features.js'
import {configFileModeWarnings, killSwitchOnWarning, licenseLines, loadFeature, ToolCallMetrics} from '../proxy/index.js'
import {LineTooLongError, MAX_LINE_BYTES, readLines} from './line-reader.js'
import {DecisionFanout} from '../decision/index.js'
import {StderrRecorder} from './recorder.js'
import {resolveMcpRuntime} from './resolve.js'
import {bannerModes, buildMcpRuntime} from './runtime.js'
import {runStdioWrap} from './stdio-wrap.js'
import {runWsBridge} from './ws-bridge-load.js'
import {droppedHeaderWarnings, parseHeaderFlags} from './headers.js'
import type {McpEmission} from './emission.js'
import type {McpEvidence} from './evidence.js'
import type {MetricsListener} from '../filesentry/index.js'
import {startWrapSentry, type WrapSentry} from './wrap-sentry.js'
import type {FileFindingReceipt} from '../filesentry/index.js'
import type {Scanner} from '../scanner/index.js'

export interface McpProxyOptions {
  readonly configFile?: string
  readonly upstream?: string
  readonly listen?: string
  readonly headers: readonly string[]
  readonly headerFile?: string
  readonly env: readonly string[]
  readonly agent?: string
  readonly sandbox: boolean
  /** `--sandbox-strict` / `--sandbox-best-effort` (each implies --sandbox). */
  readonly sandboxStrict?: boolean
  readonly sandboxBestEffort?: boolean
  /** `--workspace`: the sandboxed server's working directory. */
  readonly workspace?: string
  /** COMMAND ARGS after `--`. */
  readonly command: readonly string[]
  readonly processEnv: Readonly<Record<string, string | undefined>>
  readonly stdin: Readable
  readonly stdout: Writable
  readonly stderr: (line: string) => void
  readonly stop?: Promise<void>
  /** [ext §15.6.1] capture every tools/call into this directory (absolute). */
  readonly captureOutput?: string
  readonly captureRaw?: boolean
  /** [ext Q32] contract server identity instead of the command basename / upstream hostname. */
  readonly contractServer?: string
  readonly build?: {readonly version: string; readonly sha: string}
  /** `--metrics-listen`: /metrics with the MCP counters and the file sentry's (filesentry/metrics-listener.ts). */
  readonly metricsListen?: string
}

function usage(message: string): PipelockError {
  return new PipelockError('USAGE', message)
}

/** §2.2 argument checks, in the reference's order. */
export function checkProxyArgs(o: Pick<McpProxyOptions, 'upstream' | 'listen' | 'command' | 'sandbox' | 'sandboxStrict' | 'sandboxBestEffort'>): void {
  const hasCmd = o.command.length > 0
  if (o.upstream !== undefined && hasCmd) throw usage('--upstream and subprocess command (--) are mutually exclusive')
  if (o.listen !== undefined && hasCmd) throw usage('--listen and subprocess command (--) are mutually exclusive')
  if (o.listen !== undefined && o.upstream === undefined) throw usage('--listen requires --upstream')
  if (o.listen !== undefined && parseHostPort(o.listen) === undefined) throw usage(`--listen "${o.listen}": want host:port (port 0 picks a free port)`)
  if (o.upstream === undefined && !hasCmd) throw usage('specify --upstream URL or -- COMMAND [ARGS...]')
  // containment.md §2.2: only a local stdio child can be sandboxed.
  if (o.sandbox && o.upstream !== undefined) throw usage('--sandbox cannot be used with --upstream (cannot sandbox a remote server)')
  if (o.sandbox && o.listen !== undefined) throw usage('--sandbox cannot be used with --listen (cannot sandbox a remote server)')
  if (o.sandboxStrict === true && o.sandboxBestEffort === true) throw usage('--sandbox-strict and --sandbox-best-effort are mutually exclusive')
  if (o.upstream !== undefined) {
    let u: URL
    try {
      u = new URL(o.upstream)
    } catch {
      throw usage(`invalid upstream URL "${o.upstream}": must include a scheme and host`)
    }
    if (u.host === '') throw usage(`invalid upstream URL "${o.upstream}": must include a scheme and host`)
    if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw usage(`invalid upstream URL "${o.upstream}": scheme must be http, https, ws, or wss`)
  }
}

/** The YAML reader loads only with a config file (`loadConfigOnDemand`; bench: mcp, RSS per wrap). */
async function loadMcpConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<LoadedConfig> {
  try {
    return await loadConfigOnDemand(file, {env})
  } catch (err) {
    if (err instanceof PipelockError && file !== undefined && !err.message.startsWith('loading config')) {
      throw new PipelockError(err.code, `loading config "${file}": ${err.message}`, {hint: err.hint, location: err.location})
    }
    throw err
  }
}

export async function runMcpProxy(o: McpProxyOptions): Promise<number> {
  checkProxyArgs(o)
  const file = await loadMcpConfig(o.configFile, o.processEnv)
  const loaded = file.config
  // --agent selects the profile, the session and capture name, the receipts' actor and the live
  // contract, as the identity of a request does in `pipelock run` (docs/agents.md).
  const agent = o.agent === undefined || o.agent === '' ? DEFAULT_PROFILE : o.agent
  const config = agentConfig(loaded, agent, o.stderr)
  const ws = o.upstream !== undefined && /^wss?:/i.test(o.upstream)
  if (o.listen !== undefined && ws) {
    throw usage(`--listen with WebSocket upstream (ws/wss) is not yet supported; use stdio mode: pipelock mcp proxy --upstream ${shellWord(o.upstream as string)}`)
  }
  if (config.sandbox.enabled && (o.upstream !== undefined || o.listen !== undefined)) throw usage('sandbox cannot be used with --upstream or --listen (cannot sandbox a remote server)')
  // What this wrap reads besides the MCP pipeline: the sandbox bridge's forward proxy, the listener's header DLP.
  const shape = {sandboxed: o.sandbox || config.sandbox.enabled, listener: o.listen !== undefined}
  for (const l of mcpConfigWarnings(file.warnings, shape)) o.stderr(l)
  for (const l of configFileModeWarnings(file)) o.stderr(l)
  const switchedOn = killSwitchOnWarning(config, 'every message to the server is refused from the start')
  if (switchedOn !== null) o.stderr(switchedOn)
  const resolved = resolveMcpRuntime(config, 'proxy')
  for (const l of resolved.lines) o.stderr(l)
  // Named only when the user's file (or the --agent profile in it) sets them: the defaults turn
  // some of these on, and a note about what nobody configured is noise.
  const profileDoc = (file.document as {agents?: Record<string, unknown>} | undefined)?.agents?.[agent]
  const notUsed = assertMcpImplemented(resolved.config, shape).filter((f) => documentSets(file.document, f) || documentSets(profileDoc, f))
  if (notUsed.length > 0) o.stderr(`pipelock: note: config sections not used by mcp proxy: ${notUsed.join(', ')}`)
  for (const l of licenseLines(config, o.processEnv)) o.stderr(l)
  // sign is a field, not a section: without this line it would look applied to the tool calls.
  if (config.mediation_envelope.enabled && config.mediation_envelope.sign) {
    o.stderr('pipelock: note: mediation_envelope.sign does not apply to mcp proxy: the envelope in a tools/call (params._meta["com.pipelock/mediation"]) is never signed')
  }
  // The airlock judges a message by the receipts' action class: the classifier loads only when
  // the airlock is on. Tier changes are signed once the receipt chain is open (nothing moves a
  // tier before the first message).
  const classify = resolved.config.airlock.enabled
    ? (await loadFeature('airlock', () => import('../recorder/index.js'))).classifyMcp
    : undefined
  let airlock: McpEvidence['airlock']
  const base = buildMcpRuntime(resolved.config, o.processEnv, Date.now, o.stderr, agent, {
    evidence: (c) => airlock?.(c), ...(classify !== undefined ? {classify: (method: string, tool: string) => classify(method, tool).actionType} : {}),
  })
  const evidence = await openEvidence(o, resolved.config, base.deps.scanner, agent)
  airlock = evidence.airlock
  const admin = resolved.config.kill_switch.api_listen === ''
    ? null
    : await (await loadFeature('kill_switch.api_listen (session admin API)', () => import('./admin-api.js'))).startMcpAdminApi(resolved.config, base.sessions, o.processEnv, o.stderr)
  // --metrics-listen (filesentry/metrics-listener.ts): the MCP counters and, once armed, the file sentry's.
  const metrics = new ToolCallMetrics()
  const families: Array<() => readonly string[]> = [() => {
    const out: string[] = []
    metrics.render(out)
    return out
  }]
  let scrape: MetricsListener | null = null
  let emission: McpEmission | null = null
  try {
    scrape = o.metricsListen === undefined
      ? null
      : await (await loadFeature('--metrics-listen', () => import('../filesentry/index.js'))).startMetricsListener(o.metricsListen, () => families.flatMap((f) => f()))
    if (scrape !== null) o.stderr(`pipelock: metrics listening on ${scrape.address}`)
    const runtime = {...base, deps: {...base.deps, contract: evidence.contract}}
    // emit.webhook / emit.syslog / emit.otlp: the run's emitters on the run's audit sink (emission.ts).
    emission = await openEmission(o, resolved.config, (render) => void families.push(() => {
      const out: string[] = []
      render(out)
      return out
    }))
    const recorder = new DecisionFanout([new StderrRecorder(o.stderr), metrics, ...evidence.recorders, ...(emission !== null ? [emission.sink] : [])])
    return await runTransport(o, resolved.config, runtime, recorder, ws, evidence.fileFinding, (f) => void families.push(f))
  } finally {
    await emission?.close() // queued events are sent (≤ 10 s each), then the sinks close
    await scrape?.close()
    await admin?.close()
    base.close()
    await evidence.close()
  }
}

/**
 * The config a wrap for `agent` runs with: its profile (`agents.<agent>`, or `agents._default` when
 * the agent is `_default`) merged over the base exactly as `pipelock run` merges it for a request of
 * that agent (config `mergeProfile`); `agents` is kept, for the agent's budget. A name with no
 * profile is refused: a typo must not run the wrap under the base policy.
 */
export function agentConfig(c: PipelockConfig, agent: string, log: (line: string) => void = () => undefined): PipelockConfig {
  const profile = c.agents[agent]
  if (profile === undefined) {
    if (agent === DEFAULT_PROFILE) return c
    const known = Object.keys(c.agents).sort()
    throw new PipelockError('USAGE', `unknown agent profile "${agent}"`, {
      hint: known.length === 0 ? 'the config defines no agents: profiles; add agents.<name> or drop --agent' : `profiles in this config: ${known.join(', ')}`,
    })
  }
  const bindings = (['listeners', 'source_cidrs'] as const).filter((k) => (profile[k]?.length ?? 0) > 0)
  if (bindings.length > 0) log(`pipelock: note: agents.${agent}.${bindings.join(' and .')} bind HTTP identities in pipelock run; mcp proxy takes its agent from --agent`)
  return {...mergeProfile(c, profile), agents: c.agents}
}

/** The event emitters the config names (emission.ts), loaded only then; null without a sink. */
async function openEmission(o: McpProxyOptions, c: PipelockConfig, addMetrics: (render: (out: string[]) => void) => void): Promise<McpEmission | null> {
  if (!enabledFeatures(c).some((f) => f.startsWith('emit.'))) return null
  const {openMcpEmission} = await loadFeature('emit (webhook, syslog, otlp)', () => import('./emission.js'))
  return openMcpEmission(c, {version: o.build?.version ?? '', stderr: o.stderr, addMetrics})
}

/** No learn_lock, flight_recorder or capture: nothing to open, nothing loaded. */
const NO_EVIDENCE: McpEvidence = {contract: null, recorders: [], close: async () => undefined}

/** The evidence steps the config and flags ask for (evidence.ts), loaded only then. */
async function openEvidence(o: McpProxyOptions, c: PipelockConfig, scanner: Scanner, agent: string): Promise<McpEvidence> {
  if (!c.learn_lock.enabled && !c.flight_recorder.enabled && o.captureOutput === undefined) return NO_EVIDENCE
  const [{openMcpEvidence}, {serverIdentity}] = await loadFeature('learn_lock, flight_recorder or --capture-output', () => Promise.all([import('./evidence.js'), import('./contract-gate.js')]))
  return openMcpEvidence({
    config: c, scanner, agent,
    server: o.contractServer !== undefined && o.contractServer !== '' ? o.contractServer : serverIdentity(o.command, o.upstream),
    ...(o.upstream !== undefined ? {upstream: o.upstream} : {}),
    ...(o.captureOutput !== undefined ? {captureDir: o.captureOutput} : {}),
    captureRaw: o.captureRaw === true, env: o.processEnv, build: o.build ?? {version: '', sha: ''}, log: o.stderr,
  })
}

async function runTransport(o: McpProxyOptions, config: PipelockConfig, runtime: ReturnType<typeof buildMcpRuntime>, recorder: DecisionFanout, ws: boolean, fileFinding?: (f: FileFindingReceipt) => void, addMetrics: (f: () => readonly string[]) => void = () => undefined): Promise<number> {
  const resolved = {config}
  const modes = bannerModes(runtime.settings)

  if (o.upstream !== undefined) {
    if (o.env.length > 0) o.stderr('warning: --env is ignored in HTTP transport mode (no child process)')
    if (o.listen !== undefined) {
      if (o.headers.length > 0 || o.headerFile !== undefined) o.stderr('warning: --header is only honored in stdio-to-HTTP --upstream mode; ignored for --listen and ws/wss upstreams')
      o.stderr(`pipelock: MCP reverse proxy ${o.listen} -> ${o.upstream} (${modes})`)
      const exposure = listenExposure(o.listen)
      if (exposure !== null) o.stderr(`WARNING: --listen: ${exposure}`)
      const {startMcpListener} = await loadFeature('mcp proxy --listen', () => import('./http-listener.js'))
      let listener
      try {
        listener = await startMcpListener({listen: o.listen, upstream: o.upstream, config: resolved.config, runtime, recorder, log: o.stderr})
      } catch (err) {
        throw new PipelockError('LISTEN_FAILED', `MCP listener bind ${o.listen}: ${(err as Error).message}`)
      }
      o.stderr(`pipelock: MCP reverse proxy listening on ${listener.address}`)
      await (o.stop ?? new Promise<void>(() => {}))
      await listener.close()
      return 0
    }
    if (ws) {
      if (o.headers.length > 0 || o.headerFile !== undefined) o.stderr('warning: --header is only honored in stdio-to-HTTP --upstream mode; ignored for --listen and ws/wss upstreams')
      o.stderr(`pipelock: proxying WS upstream ${o.upstream} (${modes})`)
      return runWsBridge({upstream: o.upstream, runtime, recorder, clientIn: o.stdin, clientOut: o.stdout, log: o.stderr, stop: o.stop})
    }
    const headers = parseHeaderFlags(o.headers, o.headerFile)
    for (const w of droppedHeaderWarnings(headers)) o.stderr(w)
    const {runHttpBridge} = await loadFeature('mcp proxy --upstream http(s)://', () => import('./http-bridge.js'))
    o.stderr(`pipelock: proxying upstream ${o.upstream} (${modes})`)
    return runHttpBridge({upstream: o.upstream, headers, runtime, recorder, clientIn: o.stdin, clientOut: o.stdout, log: o.stderr, stop: o.stop})
  }

  if (config.mcp_binary_integrity.enabled) {
    const {checkBinaryIntegrity} = await loadFeature('mcp_binary_integrity', () => import('./integrity-check.js'))
    checkBinaryIntegrity(config, o.command, o.processEnv, o.stderr)
  }
  if (o.headers.length > 0 || o.headerFile !== undefined) o.stderr('warning: --header is only honored in stdio-to-HTTP --upstream mode; ignored for --listen and ws/wss upstreams')
  // containment.md §3.3: the watches are armed before the server starts (wrap-sentry.ts).
  const arm = (): Promise<WrapSentry> => startWrapSentry({
    config, scanner: runtime.deps.scanner, log: o.stderr, addMetrics,
    ...(o.configFile !== undefined ? {configFile: o.configFile} : {}), ...(fileFinding !== undefined ? {receipt: fileFinding} : {}), ...(o.stop !== undefined ? {stop: o.stop} : {}),
  })
  if (o.sandbox || config.sandbox.enabled) {
    const sandboxed = await arm()
    return sandboxed.finish(runSandboxedStdio(o, config, runtime, recorder, modes, sandboxed))
  }
  const canaries = canaryEnvEntries(config)
  const child = buildChildEnv(o.processEnv, o.env, canaries)
  if (child.extras.length > 0) o.stderr(`pipelock: passing ${child.extras.length} env var(s) to child process: ${child.extras.join(', ')}`)
  for (const k of child.unset) o.stderr(unsetEnvLine(k))
  for (const l of canaryLaunchLines(canaries, child.canaries, child.extras)) o.stderr(l)
  const sentry = await arm()
  o.stderr(`pipelock: proxying MCP server [${o.command.join(' ')}] (${modes})`)
  // With the sentry on, the server starts as a child subreaper (filesentry/subreaper.ts).
  const launch = sentry.launch(o.command[0]!, o.command.slice(1), child.env)
  return sentry.finish(runStdioWrap({
    command: launch.file,
    args: launch.args,
    env: child.env,
    runtime,
    recorder,
    clientIn: o.stdin,
    clientOut: o.stdout,
    log: o.stderr,
    ...(sentry.stop !== undefined ? {stop: sentry.stop} : {}),
    ...(sentry.onSpawn !== undefined ? {onSpawn: sentry.onSpawn} : {}),
  }).then((r) => r.exitCode))
}

/**
 * `--sandbox` (containment.md §2.2, §2.7 "Parent, MCP"): the server's stdio is still the MCP
 * transport scanned here; the server itself runs in the sandbox (src/plugins/sandbox), and its
 * own HTTP(S) egress reaches an embedded forward proxy through the sandbox bridge.
 */
async function runSandboxedStdio(o: McpProxyOptions, config: PipelockConfig, runtime: ReturnType<typeof buildMcpRuntime>, recorder: DecisionFanout, modes: string, sentry: WrapSentry): Promise<number> {
  // Imported by URL, so the wrap's bundle (scripts/bundle-run.mjs) leaves it out: the sandbox
  // embeds pipelock run's forward proxy, whose modules must not join the wrap's start-up chunks
  // (issue 12). `import.meta.url` is this source file's URL in dist/src, bundled or not.
  const url = new URL('../sandbox/index.js', import.meta.url).href
  const {startMcpSandbox} = await loadFeature('mcp proxy --sandbox', () => import(url) as Promise<typeof import('../sandbox/index.js')>)
  const sandbox = await startMcpSandbox({
    config, command: o.command, strict: o.sandboxStrict === true, bestEffort: o.sandboxBestEffort === true, envEntries: o.env,
    processEnv: o.processEnv, cwd: process.cwd(), version: o.build?.version ?? '', log: o.stderr,
    ...(o.configFile !== undefined ? {configFile: o.configFile} : {}),
    ...(o.workspace !== undefined ? {workspace: o.workspace} : {}),
    ...(o.agent !== undefined && o.agent !== '' ? {agent: o.agent} : {}),
  })
  try {
    const l = sandbox.launch
    if (l.extras.length > 0) o.stderr(`pipelock: passing ${l.extras.length} env var(s) to child process: ${l.extras.join(', ')}`)
    for (const k of l.unset) o.stderr(unsetEnvLine(k))
    for (const line of canaryLaunchLines(canaryEnvEntries(config), l.canaries, l.extras)) o.stderr(line)
    o.stderr(`pipelock: proxying MCP server [${o.command.join(' ')}] [SANDBOXED] (${modes}, workspace=${sandbox.workspace})`)
    // The file sentry's root is the spawned bubblewrap, whose PID-namespace init adopts orphans;
    // without bubblewrap (best-effort 0/3) the server is made a subreaper like a plain wrap's.
    const {file, args} = l.pidNamespace ? l : sentry.launch(l.file, l.args, l.env)
    const result = await runStdioWrap({
      command: file, args, env: l.env, extraFds: l.extraFds,
      runtime, recorder, clientIn: o.stdin, clientOut: o.stdout, log: o.stderr, stop: sentry.stop,
      ...(sentry.onSpawn !== undefined ? {onSpawn: sentry.onSpawn} : {}),
    })
    return result.exitCode
  } finally {
    await sandbox.close()
  }
}

/** A bare `--env KEY` that pipelock's environment does not set: the server starts without it. */
function unsetEnvLine(key: string): string {
  return `pipelock: WARNING: --env ${key} is not set in pipelock's environment; the child process starts without it`
}

export interface McpScanOptions {
  readonly configFile?: string
  readonly json: boolean
  readonly processEnv: Readonly<Record<string, string | undefined>>
  readonly stdin: Readable
  readonly out: (line: string) => void
  readonly stderr: (line: string) => void
}

/** The most line numbers a "not scanned" failure names; the count says how many more. */
const LISTED_LINES = 10

function whichLines(lines: readonly number[]): string {
  const listed = lines.slice(0, LISTED_LINES).join(', ')
  const more = lines.length > LISTED_LINES ? ` and ${lines.length - LISTED_LINES} more` : ''
  return lines.length === 1 ? `line ${lines[0]}` : `lines ${listed}${more}`
}

/**
 * `pipelock mcp scan` (§13). Setup failures (the config, its values) are thrown; the verdict of
 * the scan is returned: undefined when every line was scanned and none had an injection or a
 * poisoned tool, else the failure to report (after the per-line output already written).
 */
export async function runMcpScan(o: McpScanOptions): Promise<PipelockError | undefined> {
  const config = (await loadMcpConfig(o.configFile, o.processEnv)).config
  const resolved = resolveMcpRuntime(config, 'scan')
  for (const l of resolved.lines) o.stderr(l)
  const runtime = buildMcpRuntime(resolved.config, o.processEnv)
  runtime.close()
  // The actions `mcp proxy` takes for this config; its tool scan runs only where the proxy's would.
  const {settings} = runtime
  const scan: ScanLineOptions = {
    scanner: runtime.deps.scanner,
    toolScanner: settings.toolScan.enabled ? runtime.deps.toolScanner : null,
    action: settings.responseAction,
    toolAction: settings.toolScan.action,
  }
  let n = 0
  let injected = false
  let messages = 0
  let toolDefinitions = 0
  const unparsed: number[] = []
  const emit = (v: ScanLineVerdict): void => {
    const line = o.json ? renderScanJson(v) : renderScanText(v)
    if (line !== null) o.out(line)
  }
  // A line over the limit is reported in its place and skipped; the lines after it are scanned.
  const tooLong: number[] = []
  const onTooLong = (err: LineTooLongError): void => {
    n = err.line
    tooLong.push(err.line)
    emit({line: err.line, id: null, clean: false, error: `line over the ${MAX_LINE_BYTES / (1024 * 1024)} MiB limit, not scanned`, messages: 0, toolDefinitions: 0})
  }
  for await (const raw of readLines(o.stdin, MAX_LINE_BYTES, {onTooLong})) {
    n++
    const v = scanServerLine(scan, n, raw)
    if (v === null) continue
    if (v.matches !== undefined || v.tools !== undefined) injected = true
    messages += v.messages
    toolDefinitions += v.toolDefinitions
    if (v.error !== undefined) unparsed.push(n)
    emit(v)
  }
  if (injected) return new PipelockError('MCP_INJECTION_FOUND', 'prompt injection detected')
  // A line that was not scanned is not clean (fail closed): exit 1 as for an unreadable stream.
  if (tooLong.length > 0) {
    return new PipelockError('LINE_TOO_LONG', `input ${whichLines(tooLong)} exceeded the ${MAX_LINE_BYTES / (1024 * 1024)} MiB line limit and ${tooLong.length === 1 ? 'was' : 'were'} not scanned`)
  }
  // Nothing found: say what was checked, so a clean run is told apart from one that read nothing.
  const summary = {messages, toolDefinitions, scanners: scan.toolScanner === null ? ['response_injection'] : ['response_injection', 'tool_poisoning'], unparsed: unparsed.length}
  o.out(o.json ? renderSummaryJson(summary) : renderSummaryText(summary))
  // Nothing found in what was read, but a line that did not parse was not scanned: a corrupt or
  // cut transcript is no clean one (the summary says clean: false).
  if (unparsed.length > 0) {
    return new PipelockError('MCP_SCAN_INCOMPLETE', `input ${whichLines(unparsed)} ${unparsed.length === 1 ? 'is' : 'are'} not valid JSON-RPC and ${unparsed.length === 1 ? 'was' : 'were'} not scanned`, {
      hint: 'the [ERROR] lines above say why; a transcript must hold one JSON-RPC message per line',
    })
  }
  return undefined
}
