/**
 * What `pipelock mcp proxy` does once its flags are parsed, shared by the oclif command
 * (src/commands/mcp/proxy.ts) and the oclif-free start of the common invocation (`mcpProxyMain`,
 * bundled as dist/run/mcp-proxy.js; see mcp-proxy-args.ts): signals, the service call, the exit
 * status, and an expected failure printed as BaseCommand prints it.
 *
 * Imports the service file rather than the plugin's index: the index re-exports the bridges, the
 * listener and the evidence steps, which the service loads only when asked for (bench: mcp), and the
 * wrap's bundle must not hold them in its start-up graph.
 */
import {runMcpProxy} from '../plugins/mcp-proxy/service.js'
import {reportFailureOutsideOclif} from './error-output.js'
import type {McpProxyFlags, McpProxyInvocation} from './mcp-proxy-args.js'
import {operatorGave, preferSmallHeap} from './v8-flags.js'

/**
 * A wrap or bridge serves one client from a process of its own, and its RSS is the budget (bench:
 * mcp, ≤ 20 MiB per wrap): V8's default heap sizing let the old generation fill with promoted
 * garbage to ≈ 4× the ≈ 11 MiB live heap before collecting it (RSS 95–111 MiB after 4,000 calls,
 * bench: mcp). The listener serves many clients, as `run` does, and keeps
 * V8's default. An operator's own `--[no-]optimize-for-size` wins.
 */
function sizeHeapForWrap(flags: McpProxyFlags): void {
  if (flags.listen !== undefined || operatorGave(process.execArgv, process.env.NODE_OPTIONS, /^--(no-)?optimize[-_]for[-_]size$/)) return
  preferSmallHeap()
}

/** Runs the proxy until the client or a signal ends it; resolves with the exit status. */
export async function runMcpProxyCommand(flags: McpProxyFlags, argv: readonly string[], version: string): Promise<number> {
  sizeHeapForWrap(flags)
  let onStop: () => void = () => {}
  const stop = new Promise<void>((resolve) => (onStop = resolve))
  // SIGHUP is treated like SIGTERM (graceful teardown); SIGUSR1 is ignored (Node would start
  // the inspector; the reference ignores it — no signal toggle of the kill switch here).
  const handlers: Array<[NodeJS.Signals, () => void]> = [['SIGINT', onStop], ['SIGTERM', onStop], ['SIGHUP', onStop], ['SIGUSR1', () => {}]]
  for (const [s, h] of handlers) process.on(s, h)
  try {
    return await runMcpProxy({
      configFile: flags.config,
      upstream: flags.upstream,
      listen: flags.listen,
      headers: flags.header ?? [],
      headerFile: flags['header-file'],
      env: flags.env ?? [],
      agent: flags.agent,
      sandbox: Boolean(flags.sandbox || flags['sandbox-strict'] || flags['sandbox-best-effort'] || flags.workspace !== undefined),
      sandboxStrict: flags['sandbox-strict'] === true,
      sandboxBestEffort: flags['sandbox-best-effort'] === true,
      ...(flags.workspace !== undefined ? {workspace: flags.workspace} : {}),
      command: argv,
      processEnv: process.env,
      stdin: process.stdin,
      stdout: process.stdout,
      stderr: (line) => process.stderr.write(line + '\n'),
      stop,
      ...(flags['capture-output'] !== undefined ? {captureOutput: flags['capture-output']} : {}),
      captureRaw: flags['capture-raw'],
      ...(flags['contract-server'] !== undefined ? {contractServer: flags['contract-server']} : {}),
      ...(flags['metrics-listen'] !== undefined ? {metricsListen: flags['metrics-listen']} : {}),
      build: {version, sha: ''},
    })
  } finally {
    for (const [s, h] of handlers) process.removeListener(s, h)
  }
}

/**
 * The wrap without oclif: the same run, the same one-line report and exit status for an expected
 * failure (BaseCommand.catch), and for anything else oclif's own handler (stack, exit 1), loaded
 * only then.
 */
export async function mcpProxyMain(invocation: McpProxyInvocation, version: string): Promise<void> {
  try {
    process.exitCode = await runMcpProxyCommand(invocation.flags, invocation.argv, version)
  } catch (err) {
    await reportFailureOutsideOclif(err)
  }
}
