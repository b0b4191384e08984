/**
 * `pipelock sandbox` (spec containment.md §2.2) and the sandbox half of `pipelock mcp proxy
 * --sandbox`: validate, probe, start pipelock's forward proxy (embedded, or a running one by
 * address), prepare the launch, run the agent, and clean up.
 */
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {constants} from 'node:os'
import {canaryEnvEntries, canaryLaunchLines, describeLoopbackEntries, loadConfig, loopbackSourceCidrs, type PipelockConfig} from '../config/index.js'
import {probeRunningProxy} from './proxy-probe.js'
import {PipelockError} from '../errors/index.js'
import {parseHostPort} from '../config/index.js'
import type {MetricsListener, RunningFileSentry} from '../filesentry/index.js'
import type {RunningProxy} from '../proxy/index.js'
import {checkEnvEntries} from './env.js'
import {dryRun, dryRunFailure, renderDryRunText, type DryRunReport} from './dry-run.js'
import {checkMode, prepareLaunch, SANDBOX_AGENTS_LINE, type PreparedLaunch, type SandboxMode} from './launch.js'
import {guardedPaths, refuseExposedPaths} from './guarded.js'
import {buildPolicy} from './policy.js'
import {probeCapabilities, type Capabilities} from './probe.js'

export interface SandboxOptions {
  readonly configFile?: string
  readonly workspace?: string
  readonly env: readonly string[]
  readonly strict: boolean
  readonly bestEffort: boolean
  readonly dryRun: boolean
  readonly json: boolean
  /** host:port of a running `pipelock run` with forward_proxy (else an embedded proxy). */
  readonly proxy?: string
  /** `--metrics-listen`: /metrics on the host (filesentry/metrics-listener.ts). */
  readonly metricsListen?: string
  readonly command: readonly string[]
  readonly processEnv: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly version: string
  readonly stdout: (line: string) => void
  readonly stderr: (line: string) => void
}

export function sandboxMode(strict: boolean, bestEffort: boolean, flagNames: [string, string]): SandboxMode {
  if (strict && bestEffort) throw new PipelockError('USAGE', `${flagNames[0]} and ${flagNames[1]} are mutually exclusive`)
  return strict ? 'strict' : bestEffort ? 'best-effort' : 'default'
}

/** The proxy the bridge reaches: a running one by address, or one embedded in this process. */
async function openProxy(o: {configFile?: string; proxy?: string; agent?: string; env: Readonly<Record<string, string | undefined>>; version: string; stderr: (l: string) => void}): Promise<{host: string; port: number; running: RunningProxy | null}> {
  if (o.proxy !== undefined && o.proxy !== '') {
    const hp = proxyAddress(o.proxy)
    await probeRunningProxy(hp.host, hp.port, o.proxy)
    return {host: hp.host, port: hp.port, running: null}
  }
  // Loaded only here: --dry-run, doctor and --proxy never need the proxy's code.
  const {startRun} = await import('../proxy/index.js')
  const running = await startRun({
    ...(o.configFile !== undefined ? {configFile: o.configFile} : {}),
    listen: '127.0.0.1:0', embedded: true, ...(o.agent !== undefined ? {embeddedAgent: o.agent} : {}), agentsLine: SANDBOX_AGENTS_LINE, agentArgs: [], version: o.version, env: o.env,
    // The agent owns stdout (and, under mcp proxy, it is the MCP transport): the audit log goes to stderr.
    stderr: o.stderr, stdout: {write: (l: string) => void process.stderr.write(l)},
  })
  const m = /:(\d+)$/.exec(running.addresses.main)
  if (m === null) throw new PipelockError('SANDBOX_LAUNCH_FAILED', `embedded proxy: unexpected listen address ${running.addresses.main}`)
  return {host: '127.0.0.1', port: Number(m[1]), running}
}

/** `--proxy HOST:PORT` read, or USAGE. */
function proxyAddress(flag: string): {host: string; port: number} {
  const hp = parseHostPort(flag)
  if (hp === undefined || hp.port === 0 || hp.host === '') throw new PipelockError('USAGE', `--proxy "${flag}": want host:port of a running pipelock with forward_proxy enabled`)
  return hp
}

/**
 * The embedded proxy drops `kill_switch.allowlist_ips` (proxy/run-service.ts): every request of
 * the sandboxed process reaches it from the bridge on 127.0.0.1, so the usual loopback exemption
 * would let the agent through the kill switch. Said once at launch, when the config sets one.
 */
function killSwitchExemptionLine(c: PipelockConfig): string | null {
  if (c.kill_switch.allowlist_ips.length === 0) return null
  return "pipelock: kill_switch.allowlist_ips is not applied by the sandbox's proxy: every request of the sandboxed process reaches it from the bridge on 127.0.0.1, so an exempt address would exempt the agent from the kill switch"
}

/**
 * The embedded proxy binds no agent by client address (proxy/compose.ts): the bridge is its one
 * client, on 127.0.0.1, so a `source_cidrs` entry holding that address would bind the sandboxed
 * process to that profile (a profile meant for a trusted local agent, say) whatever it is. The
 * profile stays bound all the same: the agent cannot claim it by name either. Said once at
 * launch, when an entry would have matched.
 */
function sourceCidrsLine(c: PipelockConfig): string | null {
  const hits = loopbackSourceCidrs(c)
  if (hits.length === 0) return null
  return `pipelock: ${describeLoopbackEntries(hits)} ${hits.length === 1 ? 'is' : 'are'} not applied by the sandbox's proxy: every request of the sandboxed process reaches it from the bridge on 127.0.0.1, so the address cannot tell which agent it is; the sandboxed process is not bound to ${hits.length === 1 ? 'that profile' : 'those profiles'}, and a request naming one is refused`
}

/** The lines the embedded proxy's departures from the config earn at launch. */
function embeddedProxyLines(c: PipelockConfig): string[] {
  return [killSwitchExemptionLine(c), sourceCidrsLine(c)].filter((l): l is string => l !== null)
}

function configOf(file: string | undefined, env: Readonly<Record<string, string | undefined>>): PipelockConfig {
  return loadConfig(file, {env}).config
}

/** `pipelock sandbox --dry-run`: the report (the command prints it). */
export function sandboxDryRun(o: SandboxOptions): DryRunReport {
  const c = configOf(o.configFile, o.processEnv)
  const mode = sandboxMode(o.strict || c.sandbox.strict, o.bestEffort || c.sandbox.best_effort, ['--strict', '--best-effort'])
  const ws = o.workspace ?? (c.sandbox.workspace !== '' ? c.sandbox.workspace : o.cwd)
  return dryRun({
    workspace: ws, command: o.command, mode, home: o.processEnv.HOME,
    allowRead: c.sandbox.filesystem?.allow_read ?? [], allowWrite: c.sandbox.filesystem?.allow_write ?? [],
    probe: () => probeCapabilities(o.processEnv), guarded: guardedPaths(c, o.configFile, o.cwd, o.proxy === undefined || o.proxy === ''),
  })
}

export {renderDryRunText, dryRunFailure}

/** Runs the agent; resolves with its exit status (128+signal when killed; Q-S1, Q-S2 fixed). */
export async function runSandbox(o: SandboxOptions): Promise<number> {
  if (o.command.length === 0) throw new PipelockError('USAGE', 'usage: pipelock sandbox -- COMMAND [ARGS...]')
  if (process.platform !== 'linux') throw new PipelockError('SANDBOX_LAYER_UNAVAILABLE', 'sandbox layer unavailable: sandbox requires Linux')
  const c = configOf(o.configFile, o.processEnv)
  const ws = o.workspace ?? (c.sandbox.workspace !== '' ? c.sandbox.workspace : o.cwd)
  const mode = sandboxMode(o.strict || c.sandbox.strict, o.bestEffort || c.sandbox.best_effort, ['--strict', '--best-effort'])
  const policy = buildPolicy(ws, c.sandbox.filesystem?.allow_read ?? [], c.sandbox.filesystem?.allow_write ?? [], o.processEnv.HOME)
  const embedded = o.proxy === undefined || o.proxy === ''
  refuseExposedPaths(policy, guardedPaths(c, o.configFile, o.cwd, embedded))
  const caps = probeCapabilities(o.processEnv)
  checkMode(caps, mode, 'standalone')
  // Refused --env entries and malformed addresses are refused before anything is said to start.
  checkEnvEntries(o.env)
  if (!embedded) proxyAddress(o.proxy!)
  if (o.metricsListen !== undefined && parseHostPort(o.metricsListen) === undefined) throw new PipelockError('USAGE', `--metrics-listen "${o.metricsListen}": want host:port (port 0 picks a free port)`)
  o.stderr(`pipelock: launching sandboxed process [${o.command.join(' ')}] (workspace=${policy.workspace}, mode=${mode})`)
  if (embedded) for (const l of embeddedProxyLines(c)) o.stderr(l)
  const proxy = await openProxy({configFile: o.configFile, proxy: o.proxy, env: o.processEnv, version: o.version, stderr: o.stderr})
  const canaries = canaryEnvEntries(c)
  let launch: PreparedLaunch | undefined
  try {
    launch = await prepareLaunch({
      command: o.command, policy, mode, caps, proxy, parentEnv: o.processEnv, envEntries: o.env,
      canaries, kind: 'standalone', log: o.stderr,
    })
    if (launch.extras.length > 0) o.stderr(`pipelock: passing ${launch.extras.length} env var(s) to sandboxed process: ${launch.extras.join(', ')}`)
    for (const k of launch.unset) o.stderr(`pipelock: WARNING: --env ${k} is not set in pipelock's environment; the sandboxed process starts without it`)
    for (const l of canaryLaunchLines(canaries, launch.canaries, launch.extras, o.proxy)) o.stderr(l)
    // containment.md §3 [beyond]: the file sentry watches the sandboxed process's writes too.
    const sentry = c.file_sentry.enabled ? await sandboxFileSentry(c, o, proxy.running) : null
    // --metrics-listen (Q-S11 fixed, containment.md §7): the embedded proxy's registry and the
    // file sentry's counter, on the host side only (the sandbox's network namespace cannot reach it).
    let scrape: MetricsListener | null = null
    try {
      if (o.metricsListen !== undefined) {
        const {startMetricsListener} = await import('../filesentry/index.js')
        const running = proxy.running
        scrape = await startMetricsListener(o.metricsListen, () => [
          ...(running !== null ? running.server.metrics.prometheus().split('\n').filter((l) => l !== '') : []),
          ...(sentry?.metrics() ?? []),
        ])
        o.stderr(`pipelock: metrics listening on ${scrape.address}`)
      }
      const code = await runChild(launch, o.stderr, sentry)
      await sentry?.close()
      const why = sentry?.blockedReason() ?? null
      if (why !== null) throw new PipelockError('FILE_SENTRY_BLOCKED', why)
      return code
    } finally {
      await scrape?.close()
      await sentry?.close()
    }
  } finally {
    await launch?.cleanup()
    await proxy.running?.stop()
  }
}

async function sandboxFileSentry(c: PipelockConfig, o: SandboxOptions, running: RunningProxy | null): Promise<RunningFileSentry | null> {
  const [{startFileSentry}, {scannerSettingsFromConfig}, {createScanner}, {classifyMcp}] = await Promise.all([import('../filesentry/index.js'), import('../proxy/index.js'), import('../scanner/index.js'), import('../recorder/index.js')])
  // A finding is a signed receipt in the embedded proxy's chain (flight_recorder with a signing
  // key), as under mcp proxy: target = the file, layer file_sentry, classified as a file write.
  const emit = running?.receipt
  return startFileSentry({
    config: c, cwd: o.cwd, scanner: createScanner(scannerSettingsFromConfig(c, {env: o.processEnv})), log: o.stderr, subject: 'the sandboxed process',
    ...(o.configFile !== undefined ? {configFile: o.configFile} : {}),
    ...(running !== null ? {audit: (fields: Readonly<Record<string, unknown>>) => running.server.audit.event('warn', 'file_sentry_dlp', 'secret written to a watched file', {...fields})} : {}),
    ...(emit !== undefined ? {receipt: (f) => emit({actionClass: classifyMcp('tools/call', 'write_file'), target: f.path, transport: 'sandbox', verdict: f.verdict, layer: 'file_sentry', pattern: f.pattern, severity: f.severity})} : {}),
  })
}

async function runChild(l: PreparedLaunch, log: (line: string) => void, sentry: RunningFileSentry | null = null): Promise<number> {
  // Without bubblewrap's PID namespace (best-effort 0/3) the agent itself is made a subreaper.
  const {file, args} = sentry !== null && !l.pidNamespace ? sentry.launch(l.file, l.args, l.env) : l
  const child = spawn(file, [...args], {env: l.env, stdio: ['inherit', 'inherit', 'inherit', ...l.extraFds]})
  try {
    await Promise.race([once(child, 'spawn'), once(child, 'error').then(([e]) => Promise.reject(e))])
  } catch (err) {
    throw new PipelockError('SANDBOX_LAUNCH_FAILED', `sandbox launch: ${(err as Error).message}`)
  }
  if (sentry !== null && child.pid !== undefined) {
    sentry.setRoot(child.pid)
    // action block: the agent is ended (bwrap's pid 1 takes the namespace's processes with it).
    void sentry.blocked.then(() => void child.kill('SIGKILL'))
  }
  // Each signal is passed on as itself: bubblewrap dies of it (taking the namespace with it, the
  // agent included), and the exit status says which it was (130 for SIGINT, as a shell reports
  // an interrupted command; it was always 143, the SIGTERM pipelock sent in its place).
  const forward = (s: NodeJS.Signals): (() => void) => (): void => void child.kill(s)
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s): [NodeJS.Signals, () => void] => [s, forward(s)])
  for (const [s, h] of handlers) process.on(s, h)
  try {
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null]
    if (code !== null) {
      if (code !== 0) log(`pipelock: sandboxed process exited with status ${code}`)
      return code
    }
    log(`pipelock: sandboxed process killed by ${signal}`)
    return 128 + (signal !== null ? (constants.signals[signal] ?? 9) : 9)
  } finally {
    for (const [s, h] of handlers) process.removeListener(s, h)
  }
}

export interface McpSandboxRequest {
  readonly config: PipelockConfig
  readonly configFile?: string
  readonly command: readonly string[]
  readonly workspace?: string
  readonly strict: boolean
  readonly bestEffort: boolean
  readonly envEntries: readonly string[]
  readonly processEnv: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly version: string
  readonly log: (line: string) => void
  /** `mcp proxy --agent`: the server's HTTP egress is this agent's in the embedded proxy too. */
  readonly agent?: string
}

export interface McpSandbox {
  readonly launch: PreparedLaunch
  readonly workspace: string
  close(): Promise<void>
}

/**
 * `mcp proxy --sandbox -- COMMAND`: the server runs in the sandbox; its stdio stays the MCP
 * transport (scanned by mcp proxy), and its own HTTP(S) egress goes through an embedded forward
 * proxy over the bridge, scanned like any agent's.
 */
export async function startMcpSandbox(r: McpSandboxRequest): Promise<McpSandbox> {
  if (process.platform !== 'linux') throw new PipelockError('SANDBOX_LAYER_UNAVAILABLE', 'sandbox layer unavailable: sandbox requires Linux')
  const c = r.config
  const mode = sandboxMode(r.strict || c.sandbox.strict, r.bestEffort || c.sandbox.best_effort, ['--sandbox-strict', '--sandbox-best-effort'])
  const ws = r.workspace ?? (c.sandbox.workspace !== '' ? c.sandbox.workspace : r.cwd)
  const policy = buildPolicy(ws, c.sandbox.filesystem?.allow_read ?? [], c.sandbox.filesystem?.allow_write ?? [], r.processEnv.HOME)
  refuseExposedPaths(policy, guardedPaths(c, r.configFile, r.cwd, true))
  const caps: Capabilities = probeCapabilities(r.processEnv)
  checkMode(caps, mode, 'mcp')
  checkEnvEntries(r.envEntries)
  r.log('pipelock: MCP sandbox egress bridge enabled; forward_proxy forced on for sandboxed MCP egress (child loopback -> parent scanner)')
  for (const l of embeddedProxyLines(c)) r.log(l)
  const proxy = await openProxy({configFile: r.configFile, ...(r.agent !== undefined ? {agent: r.agent} : {}), env: r.processEnv, version: r.version, stderr: r.log})
  try {
    const launch = await prepareLaunch({
      command: r.command, policy, mode, caps, proxy: {host: proxy.host, port: proxy.port}, parentEnv: r.processEnv,
      envEntries: r.envEntries, canaries: canaryEnvEntries(c), kind: 'mcp', log: r.log,
    })
    return {
      launch, workspace: policy.workspace,
      close: async () => {
        await launch.cleanup()
        await proxy.running?.stop()
      },
    }
  } catch (err) {
    await proxy.running?.stop()
    throw err
  }
}
