import {isPipelockError} from '../errors/index.js'
import type {AdminClient} from './admin-client.js'
import {renderRelease, renderSessionDetail, renderSessionExplanation, renderTerminate} from './render-session.js'
import {explainSession, inspectSession, releaseSession, terminateSession} from './session-service.js'

// `pipelock session recover <key>` (runtime §13): show the session and why it is held, then
// apply one operator-chosen action. The choice comes from a flag, an interactive menu, or
// nowhere (no TTY / --no-prompt), in which case nothing changes.

export const RECOVERY_CHOICES = ['release-none', 'release-soft', 'terminate', 'leave'] as const
export type RecoveryChoice = (typeof RECOVERY_CHOICES)[number]

/** The menu of §13, in its order; the number is what an operator types. */
export const RECOVERY_MENU: readonly {readonly value: RecoveryChoice; readonly name: string}[] = [
  {value: 'release-none', name: 'release to none'},
  {value: 'release-soft', name: 'release to soft'},
  {value: 'terminate', name: 'terminate (destructive)'},
  {value: 'leave', name: 'leave as-is'},
]

export const RECOVERY_MENU_TITLE = 'Choose recovery action:'

export interface RecoverIo {
  /** One line of human output (stdout). */
  out(line: string): void
  /** One line of warning (stderr). */
  warn(line: string): void
  /** Asks for a choice after the report is printed; undefined = none selected. */
  choose(): Promise<RecoveryChoice | undefined>
  readonly nowNs: () => bigint
}

export interface RecoverResult {
  readonly key: string
  readonly action: RecoveryChoice | 'none'
}

/**
 * A report read the server rate limited (10 a minute each for inspect and explain): said on
 * stderr, and the recovery goes on. The action is what the operator came for, and must not be
 * locked out mid-incident by the reads made before it; every other failure ends the command.
 */
async function unlessRateLimited<T>(read: () => Promise<T>, io: RecoverIo, what: string): Promise<T | undefined> {
  try {
    return await read()
  } catch (e) {
    if (!isPipelockError(e) || e.code !== 'ADMIN_API_RATE_LIMITED') throw e
    io.warn(`${what} not shown: ${e.message}; the action below is not affected`)
    return undefined
  }
}

export async function recoverSession(client: AdminClient, key: string, io: RecoverIo): Promise<RecoverResult> {
  const detail = await unlessRateLimited(() => inspectSession(client, key), io, 'inspect')
  const explanation = await unlessRateLimited(() => explainSession(client, key), io, 'explain')
  io.out('== inspect ==')
  if (detail !== undefined) for (const l of renderSessionDetail(detail.data, io.nowNs())) io.out(l)
  io.out('')
  io.out('== explain ==')
  if (explanation !== undefined) for (const l of renderSessionExplanation(explanation.data, io.nowNs())) io.out(l)
  io.out('')
  const choice = await io.choose()
  switch (choice) {
    case undefined:
      io.out(`no action selected; leaving ${key} unchanged`)
      return {key, action: 'none'}
    case 'leave':
      io.out(`leaving ${key} unchanged`)
      return {key, action: 'leave'}
    case 'release-none':
    case 'release-soft': {
      // the tier is read again (the menu may have waited): a tier that came down meanwhile is not raised
      const r = await releaseSession(client, key, choice === 'release-none' ? 'none' : 'soft')
      for (const l of renderRelease(r.data)) io.out(l)
      return {key, action: choice}
    }
    case 'terminate': {
      const t = renderTerminate((await terminateSession(client, key)).data)
      if (t.warning !== undefined) io.warn(t.warning)
      for (const l of t.lines) io.out(l)
      return {key, action: choice}
    }
  }
}
