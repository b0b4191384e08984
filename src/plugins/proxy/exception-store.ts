/**
 * The live set of scoped exceptions (exception-rules.ts): granted and revoked through the admin
 * API, consumed by the URL-scan step of the one gate, persisted so a restart neither loses a
 * grant nor re-arms a used one. The file `<flight_recorder.dir>/exceptions.json` (0600, written
 * to a temporary file and renamed) holds scopes, counters, times, operator and reason — nothing
 * secret. Expired and used-up exceptions are dropped on the next read or write.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {exceptionMatches, isWildcardAddressTail, MAX_EXCEPTIONS, storedRecordProblem, validateGrant, wildcardPublicSuffix, type ExceptionGrant, type ExceptionRecord, type ExceptionTarget, type ExceptionUse} from './exception-rules.js'
import {writeFileAtomic} from '../signing/index.js'

export const EXCEPTIONS_FILE = 'exceptions.json'

export type ExceptionChange = {readonly action: 'grant' | 'revoke'; readonly exception: ExceptionRecord; readonly operator: string}

export interface ExceptionStoreOptions {
  /** Where `exceptions.json` lives (the flight recorder's directory). */
  readonly dir: string
  readonly nowMs: () => number
  readonly newId: () => string
  /** Called after every grant and revoke (the policy-change trail). */
  readonly onChange?: (c: ExceptionChange) => void
}

export type GrantOutcome = {ok: true; exception: ExceptionRecord} | {ok: false; status: number; error: string}

/** RFC 3339 UTC with whole seconds (what an operator reads and types). */
function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

export class ExceptionStore {
  private items: ExceptionRecord[]

  constructor(private readonly opts: ExceptionStoreOptions) {
    this.items = this.load()
  }

  /** The file path (for messages). */
  get file(): string {
    return path.join(this.opts.dir, EXCEPTIONS_FILE)
  }

  private load(): ExceptionRecord[] {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw e
    }
    const doc: unknown = JSON.parse(text)
    const list = typeof doc === 'object' && doc !== null ? (doc as {exceptions?: unknown}).exceptions : undefined
    if (!Array.isArray(list)) throw new Error(`${this.file}: no "exceptions" list`)
    list.forEach((e, i) => {
      const problem = storedRecordProblem(e)
      if (problem !== undefined) throw new Error(`${this.file}: exceptions[${i}]: ${problem}`)
    })
    // A grant over a whole public suffix (`*.com`) written before such grants were refused is
    // not re-armed: it would waive findings for every host under the suffix.
    return (list as ExceptionRecord[]).filter((e) => wildcardPublicSuffix(e.host) === null && !isWildcardAddressTail(e.host))
  }

  private save(): void {
    writeFileAtomic(this.file, JSON.stringify({version: 1, exceptions: this.items}, null, 2) + '\n', 0o600)
  }

  /** Drops expired and used-up exceptions; true when something was dropped. */
  private prune(): boolean {
    const now = this.opts.nowMs()
    const before = this.items.length
    this.items = this.items.filter((e) => e.uses_left > 0 && Date.parse(e.expires_at) > now)
    return this.items.length !== before
  }

  /** The exceptions still in force, oldest grant first. */
  list(): ExceptionRecord[] {
    if (this.prune()) this.save()
    return this.items.map((e) => ({...e}))
  }

  grant(g: ExceptionGrant): GrantOutcome {
    const v = validateGrant(g)
    if (!v.ok) return {ok: false, status: 400, error: v.error}
    this.prune()
    if (this.items.length >= MAX_EXCEPTIONS) return {ok: false, status: 409, error: `too many exceptions in force (max ${MAX_EXCEPTIONS}); revoke one first`}
    const now = this.opts.nowMs()
    const e: ExceptionRecord = {
      id: this.opts.newId(), host: v.grant.host,
      ...(v.grant.path !== undefined ? {path: v.grant.path} : {}), ...(v.grant.pattern !== undefined ? {pattern: v.grant.pattern} : {}), ...(v.grant.agent !== undefined ? {agent: v.grant.agent} : {}),
      uses: v.grant.uses, uses_left: v.grant.uses,
      granted_at: isoSeconds(now), expires_at: isoSeconds(now + v.grant.expires_in_seconds * 1000),
      granted_by: v.grant.granted_by, reason: v.grant.reason,
    }
    this.items.push(e)
    this.save()
    this.opts.onChange?.({action: 'grant', exception: {...e}, operator: e.granted_by})
    return {ok: true, exception: {...e}}
  }

  /** Removes an exception in force; undefined when there is none with that id. */
  revoke(id: string, operator: string): ExceptionRecord | undefined {
    this.prune()
    const i = this.items.findIndex((e) => e.id === id)
    if (i < 0) return undefined
    const [e] = this.items.splice(i, 1)
    this.save()
    this.opts.onChange?.({action: 'revoke', exception: {...e!}, operator})
    return {...e!}
  }

  /**
   * The exception step: the first exception in force (oldest grant) that waives this block is
   * used once — counted and written before the request goes on, so a crash cannot re-arm it.
   */
  consume(t: ExceptionTarget): ExceptionUse | undefined {
    if (this.items.length === 0) return undefined
    const now = this.opts.nowMs()
    const e = this.items.find((x) => x.uses_left > 0 && Date.parse(x.expires_at) > now && exceptionMatches(x, t))
    if (e === undefined) return undefined
    e.uses_left--
    const before = this.items
    this.prune()
    try {
      this.save()
    } catch {
      // A use that cannot be written is not granted: the block stands (fail closed).
      e.uses_left++
      this.items = before
      return undefined
    }
    return {
      id: e.id, rule: e.pattern ?? t.layer, layer: t.layer, reason: t.reason,
      usesLeft: e.uses_left, expiresAt: e.expires_at, grantedBy: e.granted_by, grantReason: e.reason,
    }
  }
}
