/**
 * `pipelock sandbox --dry-run [--json]` (spec containment.md §2.3): a preflight that launches
 * nothing. It validates the workspace and the filesystem entries, finds the command, probes each
 * layer and says, for every missing one, what an agent could still do.
 */
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {refuseExposedPaths, type GuardedPath} from './guarded.js'
import {buildPolicy, validateWorkspace} from './policy.js'
import {LAYER_BYPASS, type Capabilities, type LayerName} from './probe.js'
import {SANDBOX_PATH} from './env.js'
import {modeRequires, type SandboxMode} from './launch.js'

export interface DryRunLayer {
  readonly name: LayerName
  readonly available: boolean
  readonly required: boolean
  readonly detail?: string
  readonly reason?: string
  /** What the agent can still do without this layer. */
  readonly bypass?: string
}

export interface DryRunReport {
  readonly status: 'capabilities_ok' | 'degraded' | 'error'
  readonly workspace: string
  readonly command: readonly string[]
  readonly mode: SandboxMode
  readonly layers: readonly DryRunLayer[] | null
  readonly private_shm: boolean
  readonly errors?: readonly string[]
  readonly warnings?: readonly string[]
}

function findOnPath(cmd: string): string | null {
  for (const dir of SANDBOX_PATH.split(':')) {
    const p = path.join(dir, cmd)
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK)
        return p
      }
    } catch {
      // not here
    }
  }
  return null
}

export function dryRun(o: {
  workspace: string
  command: readonly string[]
  mode: SandboxMode
  allowRead: readonly string[]
  allowWrite: readonly string[]
  home: string | undefined
  probe: () => Capabilities
  /** The files pipelock's protection rests on (guarded.ts): one the agent could reach is a policy error. */
  guarded?: readonly GuardedPath[]
}): DryRunReport {
  const errors: string[] = []
  const warnings: string[] = []
  const base = {workspace: path.resolve(o.workspace), command: [...o.command], mode: o.mode, private_shm: false}
  // Key order as the reference prints it: status, workspace, command, mode, layers, private_shm, errors, warnings.
  const finish = (r: Omit<DryRunReport, 'errors' | 'warnings'>): DryRunReport => ({
    status: r.status, workspace: r.workspace, command: r.command, mode: r.mode, layers: r.layers, private_shm: r.private_shm,
    ...(errors.length > 0 ? {errors} : {}), ...(warnings.length > 0 ? {warnings} : {}),
  })
  if (process.platform !== 'linux') {
    errors.push('sandbox requires Linux')
    return finish({...base, status: 'error', layers: null})
  }
  let ws: string
  try {
    ws = validateWorkspace(o.workspace, o.home)
  } catch (err) {
    errors.push(`workspace: ${(err as Error).message}`)
    return finish({...base, status: 'error', layers: null})
  }
  try {
    refuseExposedPaths(buildPolicy(ws, o.allowRead, o.allowWrite, o.home), o.guarded ?? [])
  } catch (err) {
    errors.push(`policy: ${(err as Error).message}`)
    return finish({...base, workspace: ws, status: 'error', layers: null})
  }
  const command = [...o.command]
  const c0 = command[0] ?? ''
  if (!c0.includes('/')) {
    const found = findOnPath(c0)
    if (found !== null) command[0] = found
    else errors.push(`command "${c0}": executable file not found in $PATH: ${c0} not found in PATH`)
  }
  const caps = o.probe()
  const strict = o.mode === 'strict'
  const layers: DryRunLayer[] = caps.layers.map((l) => ({
    // [fix] What this mode refuses to launch without (the reference: strict only, §2.3).
    name: l.name, available: l.available, required: modeRequires(o.mode, l.name),
    ...(l.detail !== undefined && l.detail !== '' && l.available ? {detail: l.detail} : {}),
    ...(l.reason !== undefined ? {reason: l.reason} : {}),
    ...(!l.available ? {bypass: LAYER_BYPASS[l.name]} : {}),
  }))
  for (const l of layers) if (!l.available) warnings.push(`${l.name}: ${l.reason ?? 'unavailable'}`)
  const n = layers.filter((l) => l.available).length
  if (strict && n < 3) errors.push(`strict mode requires all 3 layers, only ${n} available`)
  if (o.mode === 'default' && !layers.some((l) => l.name === 'network' && l.available)) errors.push('default mode needs the network namespace: use --best-effort to run degraded')
  const status = errors.length > 0 ? 'error' : n === 3 ? 'capabilities_ok' : 'degraded'
  const privateShm = layers.some((l) => l.name === 'filesystem' && l.available)
  return finish({...base, workspace: ws, command, status, layers, private_shm: privateShm})
}

export function renderDryRunText(r: DryRunReport): string[] {
  const n = r.layers?.filter((l) => l.available).length ?? 0
  const out = [`Sandbox Preflight: ${r.status.toUpperCase()} (${n}/3 layers available)`, '', `  Workspace:    ${r.workspace}`, `  Command:      ${r.command.join(' ')}`, `  Mode:         ${r.mode}`]
  if (r.layers !== null) {
    out.push('', '  Layers:')
    for (const l of r.layers) {
      out.push(`    ${l.name}:  ${l.available ? 'available' : 'unavailable'}${l.detail !== undefined ? ` (${l.detail})` : ''}${l.reason !== undefined ? ` — ${l.reason}` : ''}`)
      if (l.bypass !== undefined) out.push(`      remaining bypass: ${l.bypass}`)
    }
  }
  for (const e of r.errors ?? []) out.push('', `  ERROR: ${e}`)
  for (const w of r.warnings ?? []) out.push('', `  WARNING: ${w}`)
  return out
}

/** Exit: 0 capabilities_ok, 1 degraded, 2 error (§2.3). */
export function dryRunFailure(r: DryRunReport): PipelockError | null {
  if (r.status === 'capabilities_ok') return null
  if (r.status === 'degraded') return new PipelockError('SANDBOX_DEGRADED', 'sandbox degraded')
  // A mistyped command is not the sandbox being unavailable: say which it is (exit status as §2.3).
  const errors = r.errors ?? []
  if (errors.length > 0 && errors.every((e) => e.startsWith('command "'))) {
    return new PipelockError('SANDBOX_NOT_AVAILABLE', `sandbox dry run: ${errors.join('; ')}; the sandbox itself is ${r.layers?.every((l) => l.available) === true ? 'available' : 'as shown above'}`)
  }
  return new PipelockError('SANDBOX_NOT_AVAILABLE', 'sandbox not available')
}
