/**
 * The file sentry around a process pipelock starts — `mcp proxy -- COMMAND`'s server, `pipelock
 * sandbox`'s agent (containment.md §3, docs/file-sentry.md): armed before it starts, rooted at its
 * pid once spawned, each finding logged
 * (`pipelock: [file_sentry] DLP match in <path>: <pattern> (severity=<s>)[ (agent process)]`),
 * counted (`pipelock_file_sentry_findings_total{pattern,severity,agent}`), written as a
 * `file_sentry_dlp` audit line and a receipt (where the caller writes receipts); with `action:
 * block`, an agent-attributed finding ends the process tree (`blocked` resolves).
 */
import path from 'node:path'
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {Scanner} from '../scanner/index.js'
import {killTree} from './lineage.js'
import {FileSentry, type SentryFinding} from './sentry.js'
import {subreaperLaunch, type SubreaperLaunch} from './subreaper.js'

/** A finding as the caller's receipt: target = the file, layer `file_sentry`. */
export interface FileFindingReceipt {
  readonly path: string
  readonly pattern: string
  readonly severity: string
  readonly verdict: 'warn' | 'block'
}

export interface RunningFileSentry {
  /**
   * How to start the watched command so that its daemonised descendants stay attributable
   * (subreaper.ts); where that cannot be done, a warning line and the command as given.
   */
  launch(command: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>): SubreaperLaunch
  setRoot(pid: number): void
  /** Resolves with the reason when a blocking finding ends the session. */
  readonly blocked: Promise<string>
  blockedReason(): string | null
  /** `pipelock_file_sentry_findings_total` in Prometheus text. */
  metrics(): string[]
  close(): Promise<void>
}

/**
 * The watch roots: absolute as given; relative ones against the config file's directory (the
 * working directory without a config file), never escaping it (§3.2).
 */
export function fileSentryRoots(watchPaths: readonly string[], configFile: string | undefined, cwd: string): string[] {
  const base = configFile !== undefined ? path.dirname(path.resolve(cwd, configFile)) : cwd
  return watchPaths.map((p, i) => {
    if (path.isAbsolute(p)) return path.normalize(p)
    const abs = path.resolve(base, p)
    const rel = path.relative(base, abs)
    if (rel === '..' || rel.startsWith('..' + path.sep)) throw new PipelockError('CONFIG_INVALID', `file_sentry: watch_paths[${i}] "${p}" escapes config directory (use absolute path instead)`)
    return abs
  })
}

export interface StartFileSentryOptions {
  readonly config: PipelockConfig
  readonly configFile?: string
  readonly cwd: string
  readonly scanner: Pick<Scanner, 'scanTextForDlp'>
  readonly log: (line: string) => void
  readonly receipt?: (f: FileFindingReceipt) => void
  /**
   * The `file_sentry_dlp` audit event into the caller's audit log (the sandbox's embedded proxy:
   * its log file and event emission); without one, a `pipelock: audit: {…}` stderr line.
   */
  readonly audit?: (fields: Readonly<Record<string, unknown>>) => void
  /** What the watched process is, in the block message (`the MCP server`, `the sandboxed process`). */
  readonly subject: string
}

export async function startFileSentry(o: StartFileSentryOptions): Promise<RunningFileSentry | null> {
  const fs = o.config.file_sentry
  if (!fs.enabled) return null
  const roots = fileSentryRoots(fs.watch_paths, o.configFile, o.cwd)
  const counts = new Map<string, number>()
  let root: number | null = null
  let reason: string | null = null
  let resolveBlocked: (r: string) => void = () => undefined
  const blocked = new Promise<string>((r) => (resolveBlocked = r))
  const onFinding = (f: SentryFinding): void => {
    const block = fs.action === 'block' && f.isAgent
    o.log(`pipelock: [file_sentry] DLP match in ${f.path}: ${f.pattern} (severity=${f.severity})${f.isAgent ? ' (agent process)' : ''}`)
    const key = `{agent="${f.isAgent}",pattern="${f.pattern.replace(/["\\\n]/g, '_')}",severity="${f.severity}"}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
    // `mcp proxy` has no audit log (mcp.md §15.7): there the event is a stderr line.
    const fields = {path: f.path, pattern: f.pattern, severity: f.severity, is_agent: f.isAgent, encoded: f.encoding !== '', action: block ? 'block' : 'warn'}
    if (o.audit !== undefined) o.audit(fields)
    else o.log(`pipelock: audit: ${JSON.stringify({event: 'file_sentry_dlp', ...fields})}`)
    o.receipt?.({path: f.path, pattern: f.pattern, severity: f.severity, verdict: block ? 'block' : 'warn'})
    if (block && reason === null) {
      reason = `file sentry: ${o.subject} wrote a secret (${f.pattern}) to ${f.path}; action block ended it`
      o.log(`pipelock: ${reason}`)
      // The whole tree, daemonised descendants included (the caller's own stop only reaches the
      // wrapped process and its process group), before the caller hears of it: once the root is
      // gone its adopted orphans move to init, out of reach of the lineage walk.
      const why = reason
      void (root !== null ? killTree(root) : Promise.resolve()).then(() => resolveBlocked(why))
    }
  }
  let sentry: FileSentry
  try {
    sentry = await FileSentry.arm({roots, ignorePatterns: fs.ignore_patterns, scanContent: fs.scan_content, scanner: o.scanner, onFinding, onError: (m) => o.log(`pipelock: ${m}`)})
  } catch (e) {
    if (fs.best_effort) {
      o.log(`pipelock: file sentry failed to arm watches (best_effort: continuing without file monitoring): ${(e as Error).message}`)
      return null
    }
    throw new PipelockError('FILE_SENTRY_FAILED', `file sentry failed to arm watches (feature is enabled): ${(e as Error).message}`)
  }
  o.log(`pipelock: file sentry watching ${roots.length} path(s)`)
  return {
    launch: (command, args, env) => {
      const r = subreaperLaunch(command, args, env)
      if (r.ok) return r.launch
      o.log(`pipelock: warning: subreaper setup failed, daemonised descendants will not be attributed: ${r.reason}`)
      return {file: command, args}
    },
    setRoot: (pid) => {
      root = pid
      sentry.setRoot(pid)
    },
    blocked,
    blockedReason: () => reason,
    metrics: () => counts.size === 0 ? [] : [
      '# HELP pipelock_file_sentry_findings_total Secrets found in files written under file_sentry.watch_paths.',
      '# TYPE pipelock_file_sentry_findings_total counter',
      ...[...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `pipelock_file_sentry_findings_total${k} ${v}`),
    ],
    close: () => sentry.close(),
  }
}
