import {z} from 'zod'

// Response shapes of the session admin API (runtime §12). Objects are zod's default
// (non-strict) objects: fields a newer server adds are accepted and ignored, while every field
// the spec marks as always present is required with its type — a server that drops one is a
// protocol break worth a clear error, not a silently blank column. Fields marked `?` in §12
// are optional; time fields are RFC 3339 strings, kept as text (the CLI prints them as sent).

const optionalText = z.string().optional()
/** Go's zero time (`0001-01-01T00:00:00Z`) or null both mean "not set" to the renderers. */
const optionalTime = z.string().nullable().optional()

export const sessionSnapshotSchema = z.object({
  key: z.string(),
  agent: z.string(),
  client_ip: z.string(),
  kind: z.string(),
  current_task_id: optionalText,
  current_task_label: optionalText,
  threat_score: z.number(),
  escalation_level: z.string(),
  block_all: z.boolean(),
  airlock_tier: z.string(),
  // §12 does not type taint_level; accept a label or a number and print it as given.
  taint_level: z.union([z.string(), z.number()]),
  contaminated: z.boolean(),
  last_activity: z.string(),
})
export type SessionSnapshot = z.infer<typeof sessionSnapshotSchema>

export const sessionListSchema = z.object({
  sessions: z.array(sessionSnapshotSchema),
  count: z.number().int(),
})
export type SessionList = z.infer<typeof sessionListSchema>

export const sessionEventSchema = z.object({
  at: z.string(),
  kind: z.string(),
  type: optionalText,
  target: z.string(),
  detail: z.string(),
  severity: z.string(),
  score: z.number(),
})
export type SessionEvent = z.infer<typeof sessionEventSchema>

/**
 * What holds an unbound session from its client address: another session's airlock tier or
 * blocking level (servers before this field, and the reference, leave it out).
 */
export const addressHoldSchema = z.object({
  kind: z.string(),
  session: z.string(),
  client_ip: z.string(),
  airlock_tier: z.string(),
  escalation_level: z.string(),
  block_all: z.boolean(),
})
export type AddressHoldView = z.infer<typeof addressHoldSchema>

export const sessionDetailSchema = sessionSnapshotSchema.extend({
  airlock_entered_at: optionalTime,
  in_flight: z.number().int(),
  escalation_level_int: z.number().int(),
  recent_events: z.array(sessionEventSchema).nullable(),
  held_by: addressHoldSchema.optional(),
})
export type SessionDetail = z.infer<typeof sessionDetailSchema>

export const sessionExplanationSchema = z.object({
  key: z.string(),
  tier: z.string(),
  reason: z.string(),
  trigger: optionalText,
  trigger_source: optionalText,
  entered_at: optionalTime,
  elapsed_in_tier_ns: z.number().optional(),
  escalation_level: z.string(),
  escalation_level_int: z.number().int(),
  threat_score: z.number(),
  evidence_kind: optionalText,
  evidence_target: optionalText,
  evidence_detail: optionalText,
  evidence_at: optionalTime,
  next_deescalation_tier: optionalText,
  next_deescalation_at: optionalTime,
  /** When time recovery lowers the escalation level next, and to what (servers before these fields, and the reference, leave them out). */
  next_level_recovery_level: optionalText,
  next_level_recovery_at: optionalTime,
  block_all: z.boolean().optional(),
  held_by: addressHoldSchema.optional(),
})
export type SessionExplanation = z.infer<typeof sessionExplanationSchema>

export const airlockChangeSchema = z.object({
  key: z.string(),
  previous_tier: z.string(),
  new_tier: z.string(),
  changed: z.boolean(),
  /** The escalation level a release brought down with the tier (servers before issue 34 leave these out). */
  previous_escalation_level: z.string().optional(),
  escalation_level: z.string().optional(),
  block_all: z.boolean().optional(),
  held_by: addressHoldSchema.optional(),
})
export type AirlockChange = z.infer<typeof airlockChangeSchema>

export const terminateResultSchema = z.object({
  key: z.string(),
  terminated: z.boolean(),
  previous_tier: z.string(),
  previous_level: z.string(),
  previous_score: z.number(),
  ip_state_cleared: z.boolean(),
  cee_state_cleared: z.boolean(),
  /** Live connections the terminate cut (servers before this field, and the reference, leave it out). */
  connections_cut: z.number().int().nonnegative().optional(),
})
export type TerminateResult = z.infer<typeof terminateResultSchema>

const countMap = z.record(z.string(), z.number().int())

export const adaptiveStatusSchema = z.object({
  active_sessions: z.number().int(),
  max_escalation_level: z.string(),
  max_escalation_level_int: z.number().int(),
  sessions_by_level: countMap,
  airlock_tiers: countMap,
  recent_signal_counts: countMap,
  top_anomalies: z.array(z.object({name: z.string(), count: z.number().int()})).nullable(),
  lockdown_ttl_seconds: z.number(),
  // Optional and not rendered: accepted in any shape so it can never fail a status call.
  sessions: z.unknown().optional(),
})
export type AdaptiveStatus = z.infer<typeof adaptiveStatusSchema>

export const adaptiveFlushSchema = z.object({
  flushed: z.boolean(),
  identity_sessions: z.number().int(),
  skipped_invocations: z.number().int(),
  ip_domain_state_cleared: z.boolean(),
  /** Sessions whose level or score the flush cleared, and those it left quarantined (servers before these fields, and the reference, leave them out). */
  levels_reset: z.number().int().nonnegative().optional(),
  airlock_tiers_kept: z.number().int().nonnegative().optional(),
})
export type AdaptiveFlush = z.infer<typeof adaptiveFlushSchema>

export const whoamiSchema = z.object({
  client_ip: z.string(),
  agent: optionalText,
  session_key: z.string(),
  exists: z.boolean(),
  classification: z.string(),
  escalation_level: z.string(),
  escalation_level_int: z.number().int(),
  threat_score: z.number(),
  block_all: z.boolean(),
  airlock_tier: z.string(),
  lockdown_ttl_seconds: z.number(),
  held_by: addressHoldSchema.optional(),
})
export type Whoami = z.infer<typeof whoamiSchema>
