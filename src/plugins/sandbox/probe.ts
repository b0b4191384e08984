/**
 * Which containment layers this machine can provide (spec containment.md §2.3, §2.11). Each layer
 * is probed by doing the thing: bubblewrap is run once with the namespaces the launch uses.
 *
 * `PIPELOCK_SANDBOX_DISABLE=filesystem,network,syscall` turns layers off on purpose (the tests and
 * operators use it to see exactly what a machine without that layer gets): a disabled layer is
 * reported as unavailable with that reason, and the launch really runs without it.
 */
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'

export type LayerName = 'filesystem' | 'network' | 'syscall'
export const LAYER_NAMES: readonly LayerName[] = ['filesystem', 'network', 'syscall']

export interface LayerProbe {
  readonly name: LayerName
  readonly available: boolean
  readonly detail?: string
  readonly reason?: string
}

export interface Capabilities {
  readonly bwrap: string | null
  readonly bwrapVersion: string
  readonly layers: readonly LayerProbe[]
}

/** What a missing layer leaves open (for --dry-run, doctor and the DEGRADED warning). */
export const LAYER_BYPASS: Readonly<Record<LayerName, string>> = {
  filesystem: 'the agent sees the whole host filesystem with pipelock\'s own permissions, ~/.ssh and ~/.aws included',
  network: 'egress goes through pipelock only while the agent honours HTTP(S)_PROXY; a process that clears them or opens a raw socket reaches the network unscanned',
  syscall: 'ptrace, mount, module loading, kexec, new user namespaces and io_uring stay callable by the agent',
}

export const DISABLE_ENV = 'PIPELOCK_SANDBOX_DISABLE'

export function disabledLayers(env: Readonly<Record<string, string | undefined>>): Set<LayerName> {
  const raw = env[DISABLE_ENV] ?? ''
  return new Set(raw.split(',').map((s) => s.trim()).filter((s): s is LayerName => (LAYER_NAMES as readonly string[]).includes(s)))
}

/** The bwrap binary and its version line (fixed locations: pipelock's own PATH is not trusted here). */
function findBwrap(): {path: string; version: string} | null {
  for (const c of ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap']) {
    const r = spawnSync(c, ['--version'], {encoding: 'utf8', timeout: 5000})
    if (r.status === 0) return {path: c, version: firstLine(r.stdout ?? '')}
  }
  return null
}

function firstLine(s: string): string {
  return s.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? ''
}

export function probeCapabilities(env: Readonly<Record<string, string | undefined>>): Capabilities {
  const disabled = disabledLayers(env)
  const found = findBwrap()
  const bwrap = found?.path ?? null
  const version = found?.version ?? ''
  let nsError: string | null = null
  if (bwrap === null) nsError = 'bubblewrap (bwrap) not found; install the bubblewrap package'
  else {
    const r = spawnSync(bwrap, ['--unshare-all', '--die-with-parent', '--ro-bind', '/', '/', '--', '/bin/true'], {encoding: 'utf8', timeout: 10_000})
    if (r.status !== 0) nsError = `bwrap: user namespaces unavailable (${firstLine(r.stderr ?? '') || `exit ${r.status}`})`
  }
  let seccompError: string | null = null
  if (process.arch !== 'x64') seccompError = `seccomp filter is built for x86-64 only (this is ${process.arch})`
  else if (!/^Seccomp:/m.test(safeRead('/proc/self/status'))) seccompError = 'seccomp unavailable (kernel without CONFIG_SECCOMP_FILTER)'
  else if (bwrap === null) seccompError = 'no seccomp loader without bwrap'
  else if (nsError !== null) seccompError = 'no seccomp loader: bwrap cannot start without namespaces'
  const layer = (name: LayerName, error: string | null, detail?: string): LayerProbe => {
    if (disabled.has(name)) return {name, available: false, reason: `disabled by ${DISABLE_ENV}`}
    if (error !== null) return {name, available: false, reason: error}
    return {name, available: true, ...(detail !== undefined ? {detail} : {})}
  }
  return {
    bwrap,
    bwrapVersion: version,
    layers: [
      layer('filesystem', nsError, version),
      layer('network', nsError, 'network namespace, loopback only; egress through the pipelock bridge'),
      layer('syscall', seccompError),
    ],
  }
}

function safeRead(p: string): string {
  try {
    return readFileSync(p, 'utf8')
  } catch {
    return ''
  }
}
