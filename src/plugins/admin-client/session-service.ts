import {PipelockError, shellQuote} from '../errors/index.js'
import {sessionNotFound, type AdminClient, type AdminResponse} from './admin-client.js'
import {
  adaptiveFlushSchema,
  adaptiveStatusSchema,
  airlockChangeSchema,
  sessionDetailSchema,
  sessionExplanationSchema,
  sessionListSchema,
  terminateResultSchema,
  whoamiSchema,
  type AdaptiveFlush,
  type AdaptiveStatus,
  type AirlockChange,
  type SessionDetail,
  type SessionExplanation,
  type SessionList,
  type TerminateResult,
  type Whoami,
} from './schemas.js'
import {canonicalTier, tierRank, type ReleaseTarget, type TierFilter} from './tiers.js'

// One function per §12 endpoint the CLI uses, plus the two composite operations of §13
// (release = refuse an upward move, then POST …/airlock; recover = inspect + explain + one
// chosen action). Commands call these and render; they hold no HTTP or policy.

/**
 * `/api/v1/sessions/<key>`: the key is one path segment, percent-encoded (`agent|ip` →
 * `agent%7Cip`, §12). `.` and `..` are refused here because URL parsing would resolve them
 * into another endpoint instead of sending them.
 */
export function sessionPath(key: string, action?: string): string {
  if (key === '' || key === '.' || key === '..' || key.includes('\u0000')) {
    throw new PipelockError('ADMIN_ARGUMENT_INVALID', `invalid session key ${JSON.stringify(key)}`, {
      hint: 'identity keys look like agent|client-ip (quote them: | is a shell pipe); list them with: pipelock session list',
    })
  }
  return `/api/v1/sessions/${encodeURIComponent(key)}${action === undefined ? '' : `/${action}`}`
}

export async function listSessions(client: AdminClient, tier?: TierFilter): Promise<AdminResponse<SessionList>> {
  return await client.get(`/api/v1/sessions${tier === undefined ? '' : `?tier=${encodeURIComponent(tier)}`}`, sessionListSchema)
}

export async function inspectSession(client: AdminClient, key: string): Promise<AdminResponse<SessionDetail>> {
  return await client.get(sessionPath(key), sessionDetailSchema, {key})
}

export async function explainSession(client: AdminClient, key: string): Promise<AdminResponse<SessionExplanation>> {
  return await client.get(sessionPath(key, 'explain'), sessionExplanationSchema, {key})
}

/**
 * Lowers a session's airlock tier. A move *up* is refused without calling the airlock endpoint
 * (which itself would allow any direction, §12): raising a quarantine is a different decision
 * than releasing one. Equal tiers are sent (changed=false). No move to `none` can be up, so it is
 * sent at once; for `soft` the current tier is read from the session list, which the server does
 * not rate limit (§12): a release is never refused because the operator inspected or explained
 * the session ten times in the minute before it.
 */
export async function releaseSession(client: AdminClient, key: string, to: ReleaseTarget): Promise<AdminResponse<AirlockChange>> {
  const target = canonicalTier(to)
  const current = target === 'none' ? 'none' : await listedTier(client, key)
  if (tierRank(target) > tierRank(current)) {
    throw new PipelockError('SESSION_RELEASE_REFUSED', `refusing to escalate session ${key} from ${current} to ${target}: release only lowers the airlock tier`, {
      hint: 'to raise a tier, POST /api/v1/sessions/<key>/airlock on the admin API',
    })
  }
  const r = await client.post(sessionPath(key, 'airlock'), {tier: target}, airlockChangeSchema, {key})
  const d = r.data
  // A release that moved nothing of the session, while another session's hold on its client
  // address is what refuses it, is no success: say what holds it and what to release instead.
  if (d.held_by !== undefined && !d.changed && d.previous_escalation_level === d.escalation_level) {
    const h = d.held_by
    const what = h.kind === 'airlock' ? `airlock tier ${h.airlock_tier}` : `escalation level ${h.escalation_level}, which blocks all requests`
    throw new PipelockError('SESSION_HELD_BY_ADDRESS', `session ${key} is not quarantined itself: its client address ${h.client_ip} is held by session ${h.session} at ${what}; nothing was changed`, {
      hint: `the identity is not bound, so release that session instead: pipelock session release ${shellQuote(h.session)}`,
    })
  }
  return r
}

/** A session's airlock tier as the session list gives it; not listed is the server's 404. */
async function listedTier(client: AdminClient, key: string): Promise<string> {
  const s = (await listSessions(client)).data.sessions.find((x) => x.key === key)
  if (s === undefined) throw sessionNotFound(key)
  return s.airlock_tier
}

export async function terminateSession(client: AdminClient, key: string): Promise<AdminResponse<TerminateResult>> {
  return await client.post(sessionPath(key, 'terminate'), undefined, terminateResultSchema, {key})
}

export async function adaptiveStatus(client: AdminClient): Promise<AdminResponse<AdaptiveStatus>> {
  return await client.get('/api/v1/adaptive/status', adaptiveStatusSchema)
}

export async function adaptiveFlush(client: AdminClient): Promise<AdminResponse<AdaptiveFlush>> {
  return await client.post('/api/v1/adaptive/flush', undefined, adaptiveFlushSchema)
}

export async function adaptiveWhoami(client: AdminClient): Promise<AdminResponse<Whoami>> {
  return await client.get('/api/v1/adaptive/whoami', whoamiSchema)
}
