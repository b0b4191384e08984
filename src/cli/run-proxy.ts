import {captureRunOptions} from './capture-options.js'
import {PipelockError} from '../plugins/errors/index.js'
import type {PresetName} from '../plugins/config/index.js'
import {releaseYoungGenerationUpTo, resumeCompilers, runSemiSpaceCap, scavengeOnMainThread} from './v8-flags.js'
import type {RunAttachment} from '../plugins/proxy/index.js'

/** `pipelock run`'s parsed flags (src/commands/run.ts defines them; src/cli/run-argv.ts mirrors them). */
export interface RunFlags {
  config?: string
  preset?: string
  mode?: string
  listen?: string
  'mcp-listen'?: string
  'mcp-upstream'?: string
  'reverse-proxy'?: boolean
  'reverse-upstream'?: string
  'reverse-listen'?: string
  'capture-output'?: string
  'capture-duration'?: string
  'capture-raw'?: boolean
  'change-note'?: string
  'capture-escrow-public-key'?: string
}

/**
 * The body of `pipelock run` once its flags are parsed: starts the proxy and resolves when it
 * stopped, with `process.exitCode` set. Both ways in call it: oclif's command class
 * (src/commands/run.ts) and the start without oclif (src/cli/run-direct.ts); it imports nothing of
 * oclif, so the second stays without it.
 */
export async function runProxy(flags: RunFlags, argv: readonly string[], version: string): Promise<void> {
  const reverse = reverseFlags(flags['reverse-proxy'] === true, flags['reverse-upstream'], flags['reverse-listen'])
  // Loaded here, not at module level: oclif may import every command file to find one, and
  // the proxy (scanner, undici, RE2 catalogue) should cost nothing to `pipelock keygen`.
  const mcpListener = await mcpAttachment(flags['mcp-listen'], flags['mcp-upstream'])
  const {startRun} = await import('../plugins/proxy/index.js')
  const running = await startRun({
    configFile: flags.config,
    ...(flags.preset === undefined ? {} : {preset: flags.preset as PresetName}),
    mode: flags.mode,
    listen: flags.listen,
    ...(reverse ? {reverse} : {}),
    ...(mcpListener ? {mcpListener} : {}),
    agentArgs: [...argv],
    version,
    env: process.env,
    stderr: (line) => process.stderr.write(line + '\n'),
    ...auditLogOutput(argv.length > 0, process.stdout, process.stderr),
    ...captureRunOptions(flags['capture-output'], flags['capture-duration'], flags['capture-raw'], flags['capture-escrow-public-key']),
    ...(flags['change-note'] !== undefined ? {changeNote: flags['change-note']} : {}),
    // The store's contracts are decoded before `run` listens, and V8's interpreter alone is slow
    // at it: a 12,453-rule, 16 MB contract took 6.6 s to listen, 3.7 s with the compilers on. With
    // learn_lock on, they come back before the store is read rather than once it listens.
    beforeContractStore: () => resumeCompilers(process.execArgv, process.env.NODE_OPTIONS),
  })
  // Listening: from here V8 sizes the young generation for the traffic (bin/run.js held it), up to
  // a cap that keeps a scavenge in a burst of intercepted tunnels short (read at each GC: a reload
  // may turn interception on or off), and scavenges on this thread alone, never waiting for a
  // preempted helper (bench: tls-tunnels, proxy).
  const server = running.server
  releaseYoungGenerationUpTo(process.execArgv, process.env.NODE_OPTIONS, () => runSemiSpaceCap(server.interceptingTls()))
  scavengeOnMainThread(process.execArgv, process.env.NODE_OPTIONS)
  resumeCompilers(process.execArgv, process.env.NODE_OPTIONS)
  if (argv.length === 0) {
    process.exitCode = await running.done
    return
  }
  const {agentEnvironment, launchAgent} = await import('./run-agent.js')
  const agent = launchAgent(argv, agentEnvironment(running.addresses.main, running.server.forwardProxyEnabled(), process.env), (line) => process.stderr.write(line + '\n'))
  // Whichever ends first: the agent (the proxy then stops), or pipelock's own stop (the agent is told).
  const first = await Promise.race([agent.exited.then((status) => ({agent: status})), running.done.then(() => ({proxy: true}))])
  if ('agent' in first) {
    await running.stop()
    process.exitCode = first.agent
    return
  }
  agent.signal('SIGTERM')
  // An agent that ignores SIGTERM is killed after the proxy's own drain time.
  const kill = setTimeout(() => agent.signal('SIGKILL'), 5000)
  process.exitCode = await agent.exited
  clearTimeout(kill)
}

/**
 * Where the audit log's stdout lines go, and whether that stream is a terminal (`logging.format:
 * text` colours only then). With an agent launched, the agent owns stdout and the log goes to
 * stderr: colour follows stderr, so `2>pipelock.log` from a terminal gets no escape codes.
 */
export function auditLogOutput(
  agentLaunched: boolean,
  stdout: {write: (s: string) => unknown; isTTY?: boolean},
  stderr: {write: (s: string) => unknown; isTTY?: boolean},
): {stdout: {write: (line: string) => void}; stdoutIsTty: boolean} {
  const stream = agentLaunched ? stderr : stdout
  return {stdout: {write: (line) => void stream.write(line)}, stdoutIsTty: stream.isTTY === true}
}

/** mcp.md §2.9: the MCP firewall is loaded only when the listener is asked for. */
async function mcpAttachment(listen: string | undefined, upstream: string | undefined): Promise<RunAttachment | undefined> {
  if (listen === undefined && upstream === undefined) return undefined
  const {mcpListenFlags, mcpRunAttachment} = await import('../plugins/mcp-proxy/index.js')
  const o = mcpListenFlags(listen, upstream)
  return o === undefined ? undefined : mcpRunAttachment(o)
}

/** transports §4.1: the flags come together; `--reverse-listen` alone is ignored. */
function reverseFlags(on: boolean, upstream: string | undefined, listen: string | undefined): {upstream: string; listen: string} | undefined {
  if (on && upstream === undefined) throw new PipelockError('USAGE', '--reverse-proxy requires --reverse-upstream')
  if (!on && upstream !== undefined) throw new PipelockError('USAGE', '--reverse-upstream requires --reverse-proxy')
  if (!on) return undefined
  if (!/^https?:\/\/[^/?#]+/i.test(upstream!)) throw new PipelockError('USAGE', `invalid --reverse-upstream ${JSON.stringify(upstream)}: must be http:// or https:// with a host`)
  return {upstream: upstream!, listen: listen ?? ':8890'}
}
