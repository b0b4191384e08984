/**
 * The file sentry (containment.md §3): a recursive watch of `watch_paths` (chokidar, armed before
 * the wrapped process starts), each write or create of a non-ignored regular file attributed to
 * the wrapped process tree at event time (lineage.ts), debounced per path (50 ms quiet window),
 * then read (≤ 10 MiB; empty and larger files skipped) and run through text DLP. Every enforced
 * match is a finding handed to `onFinding`. Detection, not prevention: the bytes are on disk
 * before the scan.
 */
import {open, stat} from 'node:fs/promises'
import path from 'node:path'
import {watch, type FSWatcher} from 'chokidar'
import type {Scanner} from '../scanner/index.js'
import {treeHasOpen} from './lineage.js'

export const DEBOUNCE_MS = 50
export const MAX_SCAN_BYTES = 10 * 1024 * 1024

export interface SentryFinding {
  readonly path: string
  readonly pattern: string
  readonly severity: string
  /** The write was attributed to the wrapped process tree. */
  readonly isAgent: boolean
  /** The decoding that revealed it ('' = as written). */
  readonly encoding: string
}

export interface FileSentryOptions {
  /** Absolute directories to watch recursively. */
  readonly roots: readonly string[]
  readonly ignorePatterns: readonly string[]
  readonly scanContent: boolean
  readonly scanner: Pick<Scanner, 'scanTextForDlp'>
  readonly onFinding: (f: SentryFinding) => void
  readonly onError: (message: string) => void
  readonly debounceMs?: number
}

/** A glob over one name: `*` and `?` never cross `/`. */
function nameGlob(p: string): RegExp {
  return new RegExp('^' + p.split('').map((c) => (c === '*' ? '[^/]*' : c === '?' ? '[^/]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('') + '$')
}

/**
 * Ignore patterns (§3.3): a pattern without `/` matches the basename by glob; a pattern with one
 * matches when its first segment equals the basename (`node_modules/**` ignores anything named
 * `node_modules`, and so everything under it).
 */
export function ignoreMatcher(patterns: readonly string[]): (p: string) => boolean {
  const globs = patterns.filter((p) => !p.includes('/')).map(nameGlob)
  const names = new Set(patterns.filter((p) => p.includes('/')).map((p) => p.split('/')[0]!))
  return (p) => {
    const base = path.basename(p)
    return names.has(base) || globs.some((g) => g.test(base))
  }
}

export class FileSentry {
  private root: number | null = null
  private readonly timers = new Map<string, {timer: NodeJS.Timeout; agent: boolean}>()
  private queue: Promise<void> = Promise.resolve()
  private closed = false
  /**
   * Size, mtime and inode of each file's last scan, and whether it was the agent's: an event that
   * changed nothing is not scanned again, unless it is the first to find the agent writing that
   * version (the finding is then the agent's). So one version is reported at most once as the
   * agent's: the create and write events of one write, further apart than the debounce on a busy
   * host, were two agent findings of the same leak.
   */
  private readonly scanned = new Map<string, {readonly version: string; readonly agent: boolean}>()
  /** Lineage snapshots still being taken (awaited by close, so no event is lost at shutdown). */
  private readonly snapping = new Set<Promise<void>>()

  private constructor(private readonly o: FileSentryOptions, private readonly watcher: FSWatcher) {}

  /** Starts watching; resolves once every root is watched (before the wrapped process starts). */
  static async arm(o: FileSentryOptions): Promise<FileSentry> {
    const ignored = ignoreMatcher(o.ignorePatterns)
    for (const r of o.roots) {
      const s = await stat(r).catch((e: Error) => {
        throw new Error(`filesentry: watch "${r}": watch root: ${e.message}`)
      })
      if (!s.isDirectory()) throw new Error(`filesentry: watch "${r}": watch root "${r}" is a file, not a directory`)
    }
    const watcher = watch([...o.roots], {ignoreInitial: true, followSymlinks: false, ignored: (p: string) => !o.roots.includes(p) && ignored(p)})
    const sentry = new FileSentry(o, watcher)
    watcher.on('add', (p) => sentry.event(p))
    watcher.on('change', (p) => sentry.event(p))
    watcher.on('error', (e) => o.onError(`file sentry: watch error: ${(e as Error).message}`))
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
    return sentry
  }

  /** The wrapped process: writes by it and its descendants are the agent's. */
  setRoot(pid: number): void {
    this.root = pid
  }

  private event(p: string): void {
    if (this.closed) return
    const abs = path.resolve(p)
    // The lineage snapshot is taken now, at event time, before the debounce (§3.5).
    const snap = this.root === null ? Promise.resolve(false) : treeHasOpen(this.root, abs).catch(() => false)
    const done: Promise<void> = snap.then((agent) => {
      this.snapping.delete(done)
      const prev = this.timers.get(abs)
      if (prev !== undefined) clearTimeout(prev.timer)
      if (this.closed) {
        this.queue = this.queue.then(() => this.scan(abs, agent || prev?.agent === true)).catch(() => undefined)
        return
      }
      const entry = {agent: agent || prev?.agent === true, timer: setTimeout(() => this.fire(abs), this.o.debounceMs ?? DEBOUNCE_MS)}
      this.timers.set(abs, entry)
    })
    this.snapping.add(done)
  }

  private fire(abs: string): void {
    const entry = this.timers.get(abs)
    this.timers.delete(abs)
    if (entry === undefined) return
    // One scan at a time: findings come out in event order and memory stays bounded.
    this.queue = this.queue.then(() => this.scan(abs, entry.agent)).catch((e: Error) => this.o.onError(`file sentry: scanning ${abs}: ${e.message}`))
  }

  private async scan(abs: string, isAgent: boolean): Promise<void> {
    if (!this.o.scanContent) return
    let fh
    try {
      fh = await open(abs, 'r')
    } catch {
      return // removed or renamed meanwhile
    }
    try {
      const s = await fh.stat()
      if (!s.isFile() || s.size === 0 || s.size > MAX_SCAN_BYTES) return
      const version = `${s.size}:${s.mtimeMs}:${s.ino}`
      const last = this.scanned.get(abs)
      if (last?.version === version && (last.agent || !isAgent)) return
      this.scanned.set(abs, {version, agent: isAgent})
      const buf = Buffer.alloc(Math.min(s.size, MAX_SCAN_BYTES + 1))
      const {bytesRead} = await fh.read(buf, 0, buf.length, 0)
      if (bytesRead > MAX_SCAN_BYTES) return
      const seen = new Set<string>()
      for (const m of this.o.scanner.scanTextForDlp(buf.subarray(0, bytesRead).toString('utf8')).matches) {
        // One finding per pattern and file version (the core floor and a configured pattern of
        // the same name, or several decodings, are one leak).
        if (seen.has(m.pattern)) continue
        seen.add(m.pattern)
        this.o.onFinding({path: abs, pattern: m.pattern, severity: m.severity, isAgent, encoding: m.encoding})
      }
    } finally {
      await fh.close()
    }
  }

  /** Stops watching, scans what is still pending, and waits for the scans. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.watcher.close()
    for (const [abs, e] of this.timers) {
      clearTimeout(e.timer)
      this.queue = this.queue.then(() => this.scan(abs, e.agent)).catch(() => undefined)
    }
    this.timers.clear()
    await Promise.all([...this.snapping])
    await this.queue
  }
}
