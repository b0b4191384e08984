/**
 * Prepares one sandboxed launch (spec containment.md §2.7, §2.11): decides which layers run,
 * prints the layer report, starts the host half of the bridge, writes the syscall filter, and
 * returns the argv, environment and extra descriptors to spawn. Used by `pipelock sandbox` and
 * by `pipelock mcp proxy --sandbox` (which spawns it as its stdio server).
 *
 * Layers map onto bubblewrap: `filesystem` = a mount namespace holding only the system paths,
 * the workspace and the configured entries; `network` = a network namespace whose only
 * interface is loopback, with the relay (relay.ts) as the one way out; `syscall` = the filter of
 * seccomp.ts loaded by `bwrap --seccomp`.
 */
import {closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readlinkSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {buildAgentEnv, PROXY_VARS, SANDBOX_DIR, type CanaryEnv} from './env.js'
import type {FilesystemPolicy} from './policy.js'
import {LAYER_BYPASS, type Capabilities, type LayerName} from './probe.js'
import {RELAY_SOURCE, startUnixBridge, type UnixBridge} from './relay.js'
import {buildFilter, encodeFilter} from './seccomp.js'
import {makeDirs} from '../signing/index.js'

export type SandboxMode = 'default' | 'strict' | 'best-effort'

export interface LaunchRequest {
  readonly command: readonly string[]
  readonly policy: FilesystemPolicy
  readonly mode: SandboxMode
  readonly caps: Capabilities
  /** pipelock's forward proxy the bridge reaches (embedded or running). */
  readonly proxy: {readonly host: string; readonly port: number}
  readonly parentEnv: Readonly<Record<string, string | undefined>>
  readonly envEntries: readonly string[]
  readonly canaries: readonly CanaryEnv[]
  /** 'mcp' words the degraded line as the reference's MCP path does. */
  readonly kind: 'standalone' | 'mcp'
  readonly log: (line: string) => void
}

export interface PreparedLaunch {
  readonly file: string
  readonly args: readonly string[]
  readonly env: Record<string, string>
  /** Descriptors to pass as stdio[3…] (the seccomp program). */
  readonly extraFds: readonly number[]
  readonly active: readonly LayerName[]
  readonly extras: readonly string[]
  /** Bare `--env KEY` names not set in pipelock's environment (not passed). */
  readonly unset: readonly string[]
  readonly canaries: readonly string[]
  /**
   * The command runs under bubblewrap's PID namespace, whose init adopts orphans inside the
   * spawned tree (the file sentry's lineage needs no subreaper then).
   */
  readonly pidNamespace: boolean
  cleanup(): Promise<void>
}

/** Inside the sandbox: the bridge socket's directory. */
const BRIDGE_DIR = '/run/pipelock'
/** The relay's port inside the network namespace (the reference's 8888). */
export const RELAY_PORT = 8888

/** The embedded proxy's banner line: the address the sandboxed agent is given, not the host one. */
export const SANDBOX_AGENTS_LINE = `inside the sandbox HTTPS_PROXY=http://127.0.0.1:${RELAY_PORT} HTTP_PROXY=http://127.0.0.1:${RELAY_PORT} (bridged to this proxy)`
/** Read-only system paths (§2.5 default policy, as mounts). */
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32']
const SYSTEM_ETC = [
  '/etc/ssl', '/etc/pki', '/etc/ca-certificates', '/etc/alternatives', '/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf',
  '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/passwd', '/etc/group', '/etc/localtime', '/etc/mime.types',
]
/** rlimits (§2.7 step 4) via util-linux prlimit. RLIMIT_NPROC is left out: it counts every process of the uid on the host (Q-S13). */
const PRLIMIT = ['--nofile=4096', '--fsize=1073741824', '--core=0']

export function layerLines(caps: Capabilities, kind: LaunchRequest['kind'], filterLength: number): string[] {
  const lines: string[] = []
  for (const l of caps.layers) {
    if (l.name === 'network') {
      if (l.available) lines.push('[sandbox] network: ACTIVE (isolated namespace)')
      else {
        lines.push(kind === 'mcp' ? '[sandbox] network: DEGRADED (no namespace, best-effort mode)' : '[sandbox] network: DEGRADED (no namespace, proxy-based routing only)')
        lines.push('[sandbox] WARNING: best-effort network mode relies on HTTP(S)_PROXY env; a child process that clears those can bypass pipelock. For kernel-enforced isolation, run under a user namespace (CLONE_NEWUSER) or use the sidecar topology from `pipelock generate kubernetes` (docs/sandbox.md, "Sidecar topology").')
      }
    } else if (l.available) lines.push(l.name === 'syscall' ? `[sandbox] syscall: ACTIVE (v${filterLength})` : '[sandbox] filesystem: ACTIVE')
    else lines.push(`[sandbox] ${l.name}: UNAVAILABLE (${l.reason ?? 'unknown'})`)
  }
  return lines
}

/** The one-line DEGRADED warning naming every missing layer and what it leaves open. */
export function degradedWarning(caps: Capabilities): string | null {
  const missing = caps.layers.filter((l) => !l.available)
  if (missing.length === 0) return null
  const n = caps.layers.length - missing.length
  return `pipelock: WARNING: sandbox DEGRADED (${n}/3 layers active): ${missing.map((l) => `${l.name} missing (${l.reason ?? 'unavailable'}) — ${LAYER_BYPASS[l.name]}`).join('; ')}`
}

function has(caps: Capabilities, name: LayerName): boolean {
  return caps.layers.some((l) => l.name === name && l.available)
}

/**
 * Whether `mode` refuses to launch without `layer` (§2.10): strict needs all three; the default
 * mode needs the network namespace; best-effort needs none.
 */
export function modeRequires(mode: SandboxMode, layer: LayerName): boolean {
  return mode === 'strict' || (mode === 'default' && layer === 'network')
}

/** Refusals by mode, before anything is started (§2.7 step 2, §2.10). */
export function checkMode(caps: Capabilities, mode: SandboxMode, kind: LaunchRequest['kind']): void {
  const n = caps.layers.filter((l) => l.available).length
  if (mode === 'strict' && n < 3) {
    throw new PipelockError('SANDBOX_LAYER_UNAVAILABLE', `[sandbox] FATAL: strict mode requires all 3 layers active, got ${n}`, {
      hint: `missing: ${caps.layers.filter((l) => !l.available).map((l) => `${l.name} (${l.reason ?? 'unavailable'})`).join(', ')}`,
    })
  }
  if (mode === 'default' && !has(caps, 'network')) {
    const net = caps.layers.find((l) => l.name === 'network')
    throw new PipelockError('SANDBOX_LAYER_UNAVAILABLE', `sandbox layer unavailable: ${net?.reason ?? 'user namespaces unavailable'}`, {
      hint: kind === 'mcp' ? 'enable best_effort (or --sandbox-best-effort) for degraded mode' : 'use --best-effort for degraded mode, or the sidecar topology (docs/sandbox.md)',
    })
  }
}

function systemMounts(): string[] {
  const out: string[] = []
  for (const d of SYSTEM_DIRS) {
    if (!existsSync(d)) continue
    const st = lstatSync(d)
    if (st.isSymbolicLink()) out.push('--symlink', readlinkSync(d), d)
    else out.push('--ro-bind', d, d)
  }
  for (const e of SYSTEM_ETC) out.push('--ro-bind-try', e, e)
  return out
}

export async function prepareLaunch(r: LaunchRequest): Promise<PreparedLaunch> {
  checkMode(r.caps, r.mode, r.kind)
  const fs = has(r.caps, 'filesystem')
  const net = has(r.caps, 'network')
  const sys = has(r.caps, 'syscall')
  const useBwrap = r.caps.bwrap !== null && (fs || net || sys)
  const filter = buildFilter()
  const active = r.caps.layers.filter((l) => l.available).map((l) => l.name)
  for (const l of layerLines(r.caps, r.kind, filter.length)) r.log(l)
  r.log(`[sandbox] containment: ${active.length}/3 layers active`)
  const warn = degradedWarning(r.caps)
  if (warn !== null) r.log(warn)

  let host: string
  try {
    host = mkdtempSync(path.join(tmpdir(), 'pipelock-sandbox-'))
  } catch (err) {
    throw new PipelockError('SANDBOX_LAUNCH_FAILED', `creating sandbox dir: ${(err as Error).message}`)
  }
  const bridgeHostDir = path.join(host, 'bridge')
  let bridge: UnixBridge | undefined
  const fds: number[] = []
  const cleanup = async (): Promise<void> => {
    await bridge?.close()
    for (const fd of fds.splice(0)) {
      try {
        closeSync(fd)
      } catch {
        // already closed
      }
    }
    rmSync(host, {recursive: true, force: true})
  }
  try {
    // Without a mount namespace the agent's HOME is a host directory of its own.
    const sandboxDir = fs ? SANDBOX_DIR : path.join(host, 'agent')
    if (!fs) for (const d of ['home/config', 'home/cache', 'home/data', 'tmp']) makeDirs(path.join(sandboxDir, d), 0o750)
    const agent = buildAgentEnv({workspace: r.policy.workspace, parent: r.parentEnv, entries: r.envEntries, canaries: r.canaries, sandboxDir})

    if (!useBwrap) {
      // 0/3 (best-effort only): the agent runs as a plain child; its proxy variables point
      // straight at pipelock's forward proxy.
      const env = {...agent.env}
      for (const k of PROXY_VARS) env[k] = `http://${r.proxy.host}:${r.proxy.port}`
      r.log(`[sandbox] bridge proxy: none (agent uses ${r.proxy.host}:${r.proxy.port} directly)`)
      return {file: r.command[0]!, args: r.command.slice(1), env, extraFds: [], active, extras: agent.extras, unset: agent.unset, canaries: agent.canaries, pidNamespace: false, cleanup}
    }

    mkdirSync(bridgeHostDir, {mode: 0o700})
    bridge = await startUnixBridge(path.join(bridgeHostDir, 'proxy.sock'), r.proxy, r.log)
    const args: string[] = ['--die-with-parent', '--new-session', '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try']
    if (net) args.push('--unshare-net')
    // No user namespace can be made inside (the syscall filter refuses it too; this holds without it).
    args.push('--disable-userns')
    let socketInside: string
    if (fs) {
      args.push(...systemMounts(), '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp')
      args.push('--size', String(64 * 1024 * 1024), '--perms', '1777', '--tmpfs', '/dev/shm')
      for (const d of ['', '/home', '/home/config', '/home/cache', '/home/data', '/tmp']) args.push('--perms', '0750', '--dir', SANDBOX_DIR + d)
      for (const p of r.policy.allowRead) args.push('--ro-bind-try', p, p)
      for (const p of r.policy.allowWrite) args.push('--bind-try', p, p)
      args.push('--bind', r.policy.workspace, r.policy.workspace)
      args.push('--ro-bind', bridgeHostDir, BRIDGE_DIR)
      const node = process.execPath
      if (!node.startsWith('/usr/')) args.push('--ro-bind', node, node)
      socketInside = `${BRIDGE_DIR}/proxy.sock`
    } else {
      args.push('--bind', '/', '/', '--proc', '/proc', '--dev', '/dev')
      socketInside = path.join(bridgeHostDir, 'proxy.sock')
    }
    args.push('--chdir', r.policy.workspace)
    if (sys) {
      const file = path.join(host, 'seccomp.bpf')
      writeFileSync(file, encodeFilter(filter), {mode: 0o600})
      fds.push(openSync(file, 'r'))
      args.push('--seccomp', '3')
    }
    args.push('--', process.execPath, '-e', RELAY_SOURCE, '--', String(net ? RELAY_PORT : 0), socketInside, ...r.command)
    const bwrap = r.caps.bwrap!
    const prlimit = ['/usr/bin/prlimit', '/bin/prlimit'].find((p) => existsSync(p))
    const [file, argv] = prlimit !== undefined ? [prlimit, [...PRLIMIT, '--', bwrap, ...args]] : [bwrap, args]
    return {file, args: argv, env: agent.env, extraFds: fds, active, extras: agent.extras, unset: agent.unset, canaries: agent.canaries, pidNamespace: true, cleanup}
  } catch (err) {
    await cleanup()
    throw err
  }
}
