/**
 * `pipelock doctor` (operations.md §7.4): "configured vs. actually enforceable" — ten checks of a
 * config against what the process can see (file readability only; no network access), and
 * `sandbox` and `flight_recorder` when the config enables them.
 *
 * This port has no Sentry integration, so the `sentry` check reports info `not supported in this
 * build` (a listed divergence: a clean config can then exit 0).
 */
import {accessSync, constants, statSync} from 'node:fs'
import {homedir} from 'node:os'
import type {PipelockConfig} from '../config/index.js'
import {KEYGEN_HINT, loadPrivateKeyFile} from '../proxy/index.js'
import {directoryProblem} from '../signing/index.js'
import {loadConfiguredCa} from '../tls/index.js'

/** Why pipelock run would refuse the recorder key, or null when it loads. */
function recorderKeyError(file: string): string | null {
  try {
    loadPrivateKeyFile(file)
    return null
  } catch (e) {
    return (e as Error).message
  }
}

export type DoctorStatus = 'ok' | 'warn' | 'fail' | 'info'

export interface DoctorCheck {
  readonly name: string
  readonly surface: 'http' | 'mcp' | 'host'
  readonly status: DoctorStatus
  readonly configured: boolean
  readonly reachable: boolean
  readonly enforcing: boolean
  readonly detail?: string
  readonly next?: string
}

export interface DoctorReport {
  readonly config_file: string
  readonly mode: string
  readonly version: string
  readonly root_run_banner?: string
  readonly summary: {ok: number; warnings: number; failures: number; info: number}
  readonly checks: DoctorCheck[]
}

export interface DoctorEnvironment {
  /** True when `p` is a readable regular file (injected for tests). */
  readonly readableFile: (p: string) => boolean
  /** True when `p` exists and is readable (file or directory). */
  readonly readablePath: (p: string) => boolean
  readonly isRoot: boolean
  /** True when `p` is a directory this process may create files in, or does not exist yet under one (the recorder creates it). */
  readonly writableDir?: (p: string) => boolean
  /**
   * The sandbox's layer probe (src/plugins/sandbox), asked only when `sandbox.enabled`: which of
   * filesystem / network / syscall this host provides, and why not.
   */
  readonly sandboxLayers?: () => ReadonlyArray<{name: string; available: boolean; reason?: string; bypass: string}>
  /**
   * Why `pipelock run` would refuse the interception CA `tls_interception` names (its own load:
   * the pipelock home's files when the paths are empty), or undefined when it loads.
   */
  readonly tlsCaProblem: (t: PipelockConfig['tls_interception']) => string | undefined
}

export const ROOT_BANNER = "running as root: readability checks reflect root's view, not pipelock-proxy's. Re-run as the service user for an accurate readability report."

export function systemDoctorEnvironment(): DoctorEnvironment {
  const readable = (p: string): boolean => {
    try {
      accessSync(p, constants.R_OK)
      return true
    } catch {
      return false
    }
  }
  return {
    readableFile: (p) => {
      try {
        return p !== '' && statSync(p).isFile() && readable(p)
      } catch {
        return false
      }
    },
    readablePath: (p) => p !== '' && readable(p),
    // The nearest existing path on the way up decides (the recorder creates the rest), as check asks it.
    writableDir: (p) => p !== '' && directoryProblem(p) === undefined,
    isRoot: process.geteuid?.() === 0,
    tlsCaProblem: (t) => {
      try {
        loadConfiguredCa(t, process.env, homedir())
        return undefined
      } catch (e) {
        return (e as Error).message
      }
    },
  }
}

const ENFORCE_OFF = 'set enforce=true before claiming blocking enforcement'

export function runDoctor(c: PipelockConfig, label: string, version: string, env: DoctorEnvironment): DoctorReport {
  const checks: DoctorCheck[] = []
  const E = c.enforce
  const add = (name: string, surface: DoctorCheck['surface'], status: DoctorStatus, detail: string, next: string | undefined, flags: {configured?: boolean; reachable?: boolean} = {}): void => {
    checks.push({
      name, surface, status,
      configured: flags.configured ?? true,
      reachable: flags.reachable ?? status === 'ok',
      enforcing: status === 'ok' && name !== 'direct_egress_boundary',
      detail,
      ...(next !== undefined ? {next} : {}),
    })
  }

  // 1 http_proxy
  const listener = c.forward_proxy.enabled || c.fetch_proxy.listen !== '' || c.websocket_proxy.enabled || c.reverse_proxy.enabled
  if (!listener) add('http_proxy', 'http', 'fail', 'no HTTP, forward, WebSocket, or reverse proxy listener is enabled', 'enable at least one proxy listener for agent network traffic', {configured: false})
  else if (!E) add('http_proxy', 'http', 'warn', 'proxy listener is configured, but global enforce=false means observation/audit mode', ENFORCE_OFF, {reachable: true})
  else add('http_proxy', 'http', 'ok', 'proxy listener is configured; OS/container policy must still force agents to use it', 'pair this with containment (pipelock sandbox) or network policy so direct raw egress is blocked')

  // 2 tls_interception
  const tls = c.tls_interception
  if (!tls.enabled) {
    add('tls_interception', 'http', 'info', 'disabled; HTTPS bodies are not visible unless traffic is plaintext or otherwise terminated', 'enable TLS interception and install the Pipelock CA for Browser Shield/body scanning on HTTPS', {configured: false})
  } else {
    // Empty ca_cert/ca_key name the pipelock home's CA, as in pipelock run: checked by run's own load.
    const problem = env.tlsCaProblem(tls)
    if (problem !== undefined) add('tls_interception', 'http', 'fail', `configured, but pipelock run refuses its CA: ${problem}`, 'fix ca_cert/ca_key paths or rerun pipelock tls init')
    else if (!E) add('tls_interception', 'http', 'warn', 'CA material is readable, but global enforce=false means findings on intercepted bodies are not blocking', 'set enforce=true before claiming blocking enforcement on intercepted HTTPS', {reachable: true})
    else add('tls_interception', 'http', 'ok', 'CA material is readable; clients still need to trust the CA', 'verify agent and browser trust stores use this CA')
  }

  // 3 request_body_scanning
  const rb = c.request_body_scanning
  if (!rb.enabled) add('request_body_scanning', 'http', 'warn', 'disabled; POST bodies and headers can miss DLP unless another layer sees them', 'enable request_body_scanning for agent HTTP/TLS proxy paths', {configured: false})
  else if (!E) add('request_body_scanning', 'http', 'warn', 'enabled, but global enforce=false means request body findings are not blocking', 'set enforce=true and request_body_scanning.action=block for blocking enforcement', {reachable: true})
  else if (rb.action !== 'block') add('request_body_scanning', 'http', 'warn', `enabled with action=${rb.action}; this is not blocking enforcement`, 'set request_body_scanning.action=block before claiming enforcement')
  else add('request_body_scanning', 'http', 'ok', 'configured on proxy paths; CONNECT HTTPS bodies require TLS interception', undefined)

  // 4 browser_shield
  const bs = c.browser_shield
  if (!bs.enabled) add('browser_shield', 'http', 'info', 'disabled', 'enable browser_shield where agent browser responses should be rewritten', {configured: false})
  else if (!tls.enabled) add('browser_shield', 'http', 'warn', 'enabled, but HTTPS Browser Shield coverage needs TLS interception or plaintext response bodies', 'enable TLS interception or limit the claim to plaintext/fetch-visible bodies')
  else if (!E) add('browser_shield', 'http', 'warn', 'enabled with TLS interception, but global enforce=false means findings are not blocking', 'set enforce=true before claiming blocking enforcement on browser responses', {reachable: true})
  else add('browser_shield', 'http', 'ok', 'enabled; only enforces on response bodies visible to Pipelock', 'prove with a shieldable HTTPS response through the proxy')

  // 5 mcp_wrapper_scanning
  const mcp = ([
    ['mcp_input_scanning', c.mcp_input_scanning.enabled], ['mcp_tool_scanning', c.mcp_tool_scanning.enabled],
    ['mcp_tool_policy', c.mcp_tool_policy.enabled], ['mcp_session_binding', c.mcp_session_binding.enabled],
  ] as const).filter(([, on]) => on).map(([n]) => n)
  if (mcp.length === 0) add('mcp_wrapper_scanning', 'mcp', 'info', 'MCP wrapper-dependent scanning features are disabled', 'enable MCP scanning where tools are launched through pipelock mcp proxy or an MCP listener', {configured: false})
  else add('mcp_wrapper_scanning', 'mcp', 'warn', `configured features: ${mcp.join(', ')}`, 'prove the agent launches MCP servers through pipelock mcp proxy -- or a Pipelock MCP listener')

  // 6 mcp_binary_integrity
  const bi = c.mcp_binary_integrity
  const biNext = 'generate/mount the manifest and prove MCP servers are launched through the wrapper'
  if (!bi.enabled) add('mcp_binary_integrity', 'mcp', 'info', 'disabled', 'enable after generating a real manifest for wrapped MCP server binaries', {configured: false})
  else if (bi.manifest_path === '') add('mcp_binary_integrity', 'mcp', 'fail', 'enabled but manifest_path is empty', biNext)
  else if (env.readableFile(bi.manifest_path)) add('mcp_binary_integrity', 'mcp', 'warn', 'manifest is readable, but wrapper invocation still must be proven', biNext, {reachable: true})
  else add('mcp_binary_integrity', 'mcp', 'fail', `enabled but manifest is not readable: ${bi.manifest_path}`, biNext)

  // 7 mcp_tool_provenance
  const tp = c.mcp_tool_provenance
  if (!tp.enabled) add('mcp_tool_provenance', 'mcp', 'info', 'disabled', 'enable where signed tools/list provenance should be required', {configured: false})
  else add('mcp_tool_provenance', 'mcp', 'warn', `configured in ${tp.mode} mode; enforcement only runs on tools/list traffic through MCP wrapper/listener paths`, 'prove signed and unsigned tools/list fixtures through the live MCP path')

  // 8 file_sentry
  const fs = c.file_sentry
  const fsNext = 'prove the watched workspace is reachable from the process that arms file_sentry'
  if (!fs.enabled) add('file_sentry', 'mcp', 'info', 'disabled', 'enable with reachable watch_paths where workspace drift should be detected', {configured: false})
  else if (fs.watch_paths.length === 0) add('file_sentry', 'mcp', 'fail', 'enabled but no watch_paths are configured', fsNext)
  else {
    const bad = fs.watch_paths.filter((p) => !env.readablePath(p))
    if (bad.length > 0) add('file_sentry', 'mcp', 'fail', `watch path(s) not readable: ${bad.join(', ')}`, fsNext)
    else add('file_sentry', 'mcp', 'warn', 'watch paths are readable, but wrapper/sidecar lifecycle still must be proven', fsNext, {reachable: true})
  }

  // 9 sentry (not part of this port)
  add('sentry', 'host', 'info', 'not supported in this build', 'use the audit log, /metrics and event emission (emit.webhook/syslog/otlp) for alerting', {configured: false})

  // 11 sandbox (only with sandbox.enabled; containment.md §2): which layers this host provides
  // and what a missing one leaves open — the same probe as `pipelock sandbox --dry-run`.
  if (c.sandbox.enabled && env.sandboxLayers !== undefined) {
    const layers = env.sandboxLayers()
    const missing = layers.filter((l) => !l.available)
    const next = 'install bubblewrap and allow user namespaces (docs/sandbox.md, "Environments"), or use the sidecar topology'
    if (missing.length === 0) add('sandbox', 'host', 'ok', `filesystem, network and syscall layers available (${layers.length}/3)`, undefined)
    else {
      const detail = `${layers.length - missing.length}/3 layers available; ${missing.map((l) => `${l.name} missing (${l.reason ?? 'unavailable'}): ${l.bypass}`).join('; ')}`
      const netMissing = missing.some((l) => l.name === 'network')
      // strict refuses any gap; the default mode refuses without the network namespace; best_effort runs degraded.
      const refused = c.sandbox.strict || (!c.sandbox.best_effort && netMissing)
      add('sandbox', 'host', refused ? 'fail' : 'warn', detail, next, {reachable: !refused})
    }
  }

  // 12 flight_recorder (only when enabled; an extension): where the evidence goes, and whether it is signed.
  const fr = c.flight_recorder
  if (fr.enabled) {
    const writable = env.writableDir ?? env.readablePath
    const keyError = fr.signing_key_path === '' ? null : recorderKeyError(fr.signing_key_path)
    if (fr.dir === '') add('flight_recorder', 'host', 'fail', 'enabled but dir is empty', 'set flight_recorder.dir to a directory the proxy user can write')
    else if (!writable(fr.dir)) add('flight_recorder', 'host', 'fail', `dir is not writable by this user: ${fr.dir}`, 'create the directory for the proxy user (mode 0700), or point flight_recorder.dir elsewhere')
    else if (fr.signing_key_path === '') add('flight_recorder', 'host', 'warn', `evidence goes to ${fr.dir}, unsigned: without signing_key_path neither receipts nor checkpoints are signed, so the chain proves order but not who wrote it`, KEYGEN_HINT, {reachable: true})
    // The key is loaded as pipelock run loads it: the same refusal, not a readability guess.
    else if (keyError !== null) add('flight_recorder', 'host', 'fail', keyError, KEYGEN_HINT)
    else add('flight_recorder', 'host', 'ok', `evidence goes to ${fr.dir}, receipts and checkpoints signed with ${fr.signing_key_path}`, 'verify the chain with pipelock verify-receipt --chain DIR --key PUBLIC-KEY (docs/receipts.md)')
  }

  // 10 direct_egress_boundary. [ext] The reference names `plk/containment` and `contain verify`,
  // which do not exist here: `pipelock sandbox` is the containment, --dry-run its check (the
  // http_proxy and tls_interception hints name it and `pipelock tls init` for the same reason).
  add('direct_egress_boundary', 'host', 'info', 'proxy env vars only steer cooperative clients; launch agents with pipelock sandbox or behind cluster network policy so raw egress is blocked', 'run pipelock sandbox --dry-run -- AGENT to see which containment layers this host provides, or cluster topology smoke tests; agents launched outside that boundary can still use the operator\'s normal network')

  const count = (s: DoctorStatus): number => checks.filter((x) => x.status === s).length
  return {
    config_file: label,
    mode: c.mode,
    version,
    ...(env.isRoot ? {root_run_banner: ROOT_BANNER} : {}),
    summary: {ok: count('ok'), warnings: count('warn'), failures: count('fail'), info: count('info')},
    checks,
  }
}

const TAGS: Readonly<Record<DoctorStatus, [string, string]>> = {ok: ['[OK]', '32'], warn: ['[WARN]', '33'], fail: ['[FAIL]', '31'], info: ['[INFO]', '36']}

/** The text report (§7.4); `colour` only when stdout is a terminal and NO_COLOR/--no-color are unset. */
export function renderDoctor(r: DoctorReport, colour: boolean): string {
  const tag = (s: DoctorStatus): string => (colour ? `\x1b[${TAGS[s][1]}m${TAGS[s][0]}\x1b[0m` : TAGS[s][0])
  const lines = ['Pipelock Enforcement Doctor', '===========================', `Config: ${r.config_file}`, `Mode:   ${r.mode}`]
  if (r.root_run_banner !== undefined) lines.push('', `${tag('warn')} ${r.root_run_banner}`)
  lines.push('')
  for (const c of r.checks) {
    lines.push(`${tag(c.status)} ${c.name.padEnd(24)} [${c.surface}]`)
    if (c.detail !== undefined) lines.push(`  ${c.detail}`)
    if (c.next !== undefined) lines.push(`  next: ${c.next}`)
  }
  const s = r.summary
  lines.push('', `Summary: ${s.ok} ok, ${s.warnings} warning, ${s.failures} failure, ${s.info} info`)
  return lines.join('\n') + '\n'
}

/** Exit status: 2 with any failure, 1 with any warning, else 0 (§7.4). */
export function doctorExit(r: DoctorReport): {code: number; line?: string} {
  if (r.summary.failures > 0) return {code: 2, line: `${r.summary.failures} doctor failure(s)`}
  if (r.summary.warnings > 0) return {code: 1, line: `${r.summary.warnings} doctor warning(s)`}
  return {code: 0}
}
