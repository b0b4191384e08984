/**
 * The file sentry around a stdio server `mcp proxy` starts, plain or sandboxed (containment.md
 * §3, docs/file-sentry.md): armed before the server starts, rooted at the spawned pid, its
 * counter handed to `--metrics-listen`, and its block turned into the wrap's stop and the
 * FILE_SENTRY_BLOCKED exit. Without `file_sentry.enabled` nothing is loaded.
 */
import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {FileFindingReceipt, RunningFileSentry, SubreaperLaunch} from '../filesentry/index.js'
import {loadFeature} from '../proxy/index.js'
import type {Scanner} from '../scanner/index.js'

export interface WrapSentryOptions {
  readonly config: PipelockConfig
  readonly configFile?: string
  readonly scanner: Pick<Scanner, 'scanTextForDlp'>
  readonly log: (line: string) => void
  readonly receipt?: (f: FileFindingReceipt) => void
  readonly addMetrics: (f: () => readonly string[]) => void
  /** The wrap's own stop (signals), raced with a blocking finding. */
  readonly stop?: Promise<void>
}

export interface WrapSentry {
  readonly stop?: Promise<void>
  readonly onSpawn?: (pid: number) => void
  /**
   * The command to spawn: as given, or (plain wrap with the sentry on) under a child subreaper
   * (filesentry/subreaper.ts). The sandbox needs none: bubblewrap's PID-namespace init adopts orphans.
   */
  launch(command: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>): SubreaperLaunch
  /** Awaits the wrap, stops the sentry, and reports a blocking finding as FILE_SENTRY_BLOCKED. */
  finish(run: Promise<number>): Promise<number>
}

export async function startWrapSentry(o: WrapSentryOptions): Promise<WrapSentry> {
  let sentry: RunningFileSentry | null = null
  if (o.config.file_sentry.enabled) {
    const {startFileSentry} = await loadFeature('file_sentry', () => import('../filesentry/index.js'))
    sentry = await startFileSentry({
      config: o.config, cwd: process.cwd(), scanner: o.scanner, log: o.log, subject: 'the MCP server',
      ...(o.configFile !== undefined ? {configFile: o.configFile} : {}), ...(o.receipt !== undefined ? {receipt: o.receipt} : {}),
    })
  }
  const s = sentry
  if (s === null) {
    return {
      ...(o.stop !== undefined ? {stop: o.stop} : {}),
      launch: (command, args) => ({file: command, args}),
      finish: (run) => run,
    }
  }
  o.addMetrics(() => s.metrics())
  const blocked = (): PipelockError | null => {
    const why = s.blockedReason()
    return why === null ? null : new PipelockError('FILE_SENTRY_BLOCKED', why)
  }
  return {
    stop: Promise.race([s.blocked.then(() => undefined), ...(o.stop !== undefined ? [o.stop] : [])]),
    onSpawn: (pid) => s.setRoot(pid),
    launch: (command, args, env) => s.launch(command, args, env),
    finish: async (run) => {
      let code: number
      try {
        code = await run
      } catch (e) {
        await s.close()
        throw blocked() ?? e
      }
      await s.close()
      const b = blocked()
      if (b !== null) throw b
      return code
    },
  }
}
