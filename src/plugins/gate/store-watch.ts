/**
 * Watching the contract store (learn-lifecycle §7.4), started by `pipelock run` itself (the
 * reference ships the watcher as a library and never starts it, §10). Events on `active.json`
 * start or extend a 100 ms debounce; a burst that has run for 2 s reloads at once (starvation
 * cap). Watcher errors are counted and schedule a defensive reload. Reload errors never stop
 * the watch. chokidar (already the config watcher) follows the atomic rename promote uses.
 */
import path from 'node:path'
import {watch, type FSWatcher} from 'chokidar'
import {makeDirs} from '../signing/index.js'

export const STORE_DEBOUNCE_MS = 100
export const STORE_BURST_CAP_MS = 2000

export interface StoreWatchOptions {
  readonly storeDir: string
  readonly reload: () => void
  readonly onError: (e: Error) => void
  readonly nowMs?: () => number
}

export interface StoreWatch {
  /** Resolves once the watcher is ready (events before this are not seen). */
  readonly ready: Promise<void>
  close(): Promise<void>
}

export function watchStore(o: StoreWatchOptions): StoreWatch {
  const now = o.nowMs ?? ((): number => Date.now())
  let timer: NodeJS.Timeout | undefined
  let burstStart = 0
  const fire = (): void => {
    timer = undefined
    burstStart = 0
    try {
      o.reload()
    } catch (e) {
      o.onError(e as Error)
    }
  }
  const schedule = (): void => {
    const t = now()
    if (burstStart === 0) burstStart = t
    if (timer !== undefined) clearTimeout(timer)
    if (t - burstStart >= STORE_BURST_CAP_MS) {
      fire()
      return
    }
    timer = setTimeout(fire, STORE_DEBOUNCE_MS)
    timer.unref()
  }
  // A store nobody has promoted into yet may not exist: create it (empty, 0750) so the first
  // promote is seen. An existing store — possibly a read-only mount — is never written.
  makeDirs(o.storeDir, 0o750)
  const watcher: FSWatcher = watch(o.storeDir, {ignoreInitial: true, depth: 0, atomic: false})
  const onPath = (p: string): void => {
    if (path.basename(p) === 'active.json') schedule()
  }
  watcher.on('add', onPath).on('change', onPath).on('unlink', onPath)
  watcher.on('error', (e) => {
    o.onError(e as Error)
    schedule()
  })
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()))
  return {
    ready,
    async close(): Promise<void> {
      if (timer !== undefined) clearTimeout(timer)
      await watcher.close()
    },
  }
}
