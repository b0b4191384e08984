/**
 * The sandbox's filesystem policy (spec containment.md §2.5): the workspace checks, the
 * protected directories, and the `allow_read` / `allow_write` entries. With bubblewrap the
 * policy is a mount allowlist: what is not bound does not exist inside the sandbox, so a
 * protected directory is protected by never being bound; the checks here refuse a configuration
 * that would bind one.
 */
import {existsSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'

/** Under $HOME: credentials and browser profiles (never visible in the sandbox). */
export const PROTECTED_HOME_DIRS = [
  '.ssh', '.aws', '.kube', '.gnupg', '.docker', '.config/gcloud', '.config/pipelock', '.azure', '.netrc',
  '.mozilla', '.config/google-chrome', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge', 'snap/firefox',
] as const

/** Workspaces refused outright (§2.5). */
const FORBIDDEN_WORKSPACES = ['/', '/tmp', '/home', '/etc', '/usr', '/var', '/root', '/proc', '/sys', '/dev', '/run', '/boot']

export interface FilesystemPolicy {
  readonly workspace: string
  readonly allowRead: readonly string[]
  readonly allowWrite: readonly string[]
}

function resolved(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}

/** The protected directories that exist for this HOME (symlinks resolved). */
export function protectedDirs(home: string | undefined): string[] {
  if (home === undefined || home === '') return []
  return PROTECTED_HOME_DIRS.map((d) => path.join(home, d)).filter((d) => existsSync(d)).map(resolved)
}

/** `child` is `parent` or lies below it (both resolved). */
export const inside = (child: string, parent: string): boolean => child === parent || child.startsWith(parent.endsWith('/') ? parent : parent + '/')

/** Validates and resolves the workspace (messages as §2.5, plus the protected-directory checks of Q-S9). */
export function validateWorkspace(ws: string, home: string | undefined): string {
  if (ws.trim() === '') throw new PipelockError('SANDBOX_POLICY', 'sandbox workspace must not be empty')
  const abs = path.resolve(ws)
  if (!existsSync(abs)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace does not exist: ${abs}`)
  let real: string
  try {
    real = realpathSync(abs)
  } catch (err) {
    throw new PipelockError('SANDBOX_POLICY', `resolving sandbox workspace: ${(err as Error).message}`)
  }
  if (home !== undefined && home !== '' && real === resolved(home)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace must not be your home directory (${resolved(home)})`)
  if (FORBIDDEN_WORKSPACES.includes(real)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace must not be ${real}`)
  if (!statSync(real).isDirectory()) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace is not a directory: ${real}`)
  for (const d of protectedDirs(home)) {
    if (inside(real, d)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace ${real} is inside protected directory ${d}`)
    if (inside(d, real)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace ${real} contains protected directory ${d}`)
  }
  if (home !== undefined && home !== '' && inside(resolved(home), real)) throw new PipelockError('SANDBOX_POLICY', `sandbox workspace ${real} contains your home directory`)
  return real
}

/**
 * Where the host keeps its daemons' Unix sockets: /tmp (ssh-agent, tmux, X11) and /run (D-Bus,
 * Docker, containerd, podman, the user's runtime directory). A mount that shows one shows the
 * socket, and a read-only mount does not stop `connect()`: through a Docker socket or an
 * ssh-agent the agent would be out of the sandbox, network namespace or not. An entry that covers
 * either, or lies inside /run, is refused; a directory of its own below /tmp is fine.
 */
function socketDirs(): {covered: string[]; within: string[]} {
  const run = [...new Set(['/run', resolved('/var/run')])]
  return {covered: ['/tmp', ...run], within: run}
}

/** Refuses config entries that would make a protected directory visible (§2.5 wording). */
export function validateEntries(label: 'allow_read' | 'allow_write', entries: readonly string[], home: string | undefined): string[] {
  const out: string[] = []
  const prot = protectedDirs(home)
  // Resolved once: the answer does not depend on the entry.
  const sockets = socketDirs()
  for (const e of entries) {
    if (e.trim() === '') throw new PipelockError('SANDBOX_POLICY', `sandbox filesystem ${label} contains empty path`)
    if (!path.isAbsolute(e)) throw new PipelockError('SANDBOX_POLICY', `sandbox ${label} "${e}" must be an absolute path`)
    const r = resolved(e)
    for (const d of prot) {
      if (inside(d, r)) throw new PipelockError('SANDBOX_POLICY', `sandbox ${label} "${e}" (resolves to "${r}") covers protected directory "${d}" — remove it or use a narrower path`)
      if (inside(r, d)) throw new PipelockError('SANDBOX_POLICY', `sandbox ${label} "${e}" (resolves to "${r}") is inside protected directory "${d}"`)
    }
    if (home !== undefined && home !== '' && inside(resolved(home), r)) {
      throw new PipelockError('SANDBOX_POLICY', `sandbox ${label} "${e}" (resolves to "${r}") covers your home directory — use a narrower path`)
    }
    const where = sockets.covered.find((d) => inside(d, r)) ?? sockets.within.find((d) => inside(r, d))
    if (where !== undefined) {
      throw new PipelockError('SANDBOX_POLICY', `sandbox ${label} "${e}" (resolves to "${r}") ${inside(where, r) ? 'covers' : 'is inside'} ${where}, where the host's daemons keep their Unix sockets (ssh-agent, tmux, D-Bus, Docker): a socket stays connectable through a read-only mount, a way out of the sandbox — use a directory of its own`)
    }
    out.push(r)
  }
  return out
}

export function buildPolicy(workspace: string, allowRead: readonly string[], allowWrite: readonly string[], home: string | undefined): FilesystemPolicy {
  const ws = validateWorkspace(workspace, home)
  return {workspace: ws, allowRead: validateEntries('allow_read', allowRead, home), allowWrite: validateEntries('allow_write', allowWrite, home)}
}
