import type {z as Z} from 'zod'

// Audit Packet v0 (vectors/audit-packet/v0.schema.json, JSON Schema 2020-12): the same shape as
// a strict zod schema, so `audit packet verify` checks it without shipping the reference schema.
// The tests validate our packets and the reference example against the reference schema itself
// with ajv, and check this schema agrees on every mutation they try.

export const PACKET_SCHEMA_VERSION = 'pipelock.audit_packet.v0'
export const VERDICT_BUCKETS = ['allow', 'block', 'warn', 'ask', 'strip', 'forward', 'redirect', 'other'] as const
export const VERIFIER_VERDICTS = ['valid', 'invalid', 'error', 'not_run', 'self_consistent_only'] as const

// zod is loaded only when a packet is checked (verify-receipt, which shares this plugin, must not
// pay for it at start-up): the schema is built from the module the caller loaded.
function build(z: typeof Z) {
  const count = z.number().int().min(0)
  // RFC 3339 date-time as JSON Schema's `format: date-time` means it (offset required).
  const dateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/, 'not an RFC 3339 date-time')
  const artifactPath = z
    .string()
    .min(1)
    .refine((p) => p !== '.' && !p.startsWith('/') && !p.includes(':') && !p.includes('\\') && !/(^|\/)\.\.(\/|$)/.test(p), 'artifact path must stay inside the packet directory')

  return z.strictObject({
    schema_version: z.literal(PACKET_SCHEMA_VERSION),
    packet_id: z.string().optional(),
    generated_at: dateTime,
    run: z.strictObject({
      provider: z.enum(['github_actions', 'self_hosted', 'local']),
      repository: z.string().optional(),
      workflow: z.string().optional(),
      run_id: z.string().optional(),
      run_attempt: z.string().optional(),
      ref: z.string().optional(),
      sha: z.string().optional(),
      agent_identity: z.string(),
      started_at: dateTime,
      completed_at: dateTime.optional(),
      agent_exit_code: z.number().int().optional(),
    }),
    policy: z.strictObject({
      policy_hashes: z.array(z.string()),
      config_path: z.string().optional(),
      runtime_config_path: z.string().optional(),
      config_snapshot_sha256: z.string().optional(),
    }),
    summary: z.strictObject({
      receipt_count: count,
      totals: z.strictObject(Object.fromEntries(VERDICT_BUCKETS.map((b) => [b, count])) as Record<(typeof VERDICT_BUCKETS)[number], typeof count>),
      transports: z.record(z.string(), count).optional(),
      layers: z.record(z.string(), count).optional(),
      domains_touched: z.array(z.string()).optional(),
    }),
    verifier: z.strictObject({
      verdict: z.enum(VERIFIER_VERDICTS),
      trusted: z.boolean(),
      receipt_count: count.optional(),
      root_hash: z.string().optional(),
      final_seq: count.optional(),
      signer_key: z.string().min(1).optional(),
      output_file: z.string().optional(),
      error: z.string().optional(),
    }),
    receipts: z
      .array(
        z.looseObject({
          action_id: z.string(),
          receipt_hash: z.string(),
          chain_seq: count,
          chain_prev_hash: z.string(),
          verdict: z.string(),
          policy_hash: z.string(),
        }),
      )
      .optional(),
    scanner_config_snapshot: z
      .strictObject({
        mode: z.string().optional(),
        dlp_patterns_count: count.optional(),
        response_patterns_count: count.optional(),
        ssrf_enabled: z.boolean().optional(),
        redaction_enabled: z.boolean().optional(),
        flight_recorder_enabled: z.boolean().optional(),
      })
      .optional(),
    posture: z.strictObject({
      enforcement_mode: z.string(),
      runner_os: z.string(),
      runner_arch: z.string().optional(),
      raw_socket_status: z.enum(['denied', 'allowed', 'unknown']),
      docker_socket_status: z.enum(['denied', 'masked', 'allowed', 'absent', 'unknown']),
      dns_udp_status: z.enum(['denied', 'proxied', 'allowed', 'unknown']),
      browser_proxy_status: z.enum(['forced', 'advisory', 'absent', 'unknown']),
      websocket_frame_scanning: z.enum(['explicit_ws_proxy_path_required', 'always_on', 'off']),
      network_namespace: z.string().optional(),
      agent_user: z.string().optional(),
      agent_uid: z.number().int().optional(),
      host_user: z.string().optional(),
      host_uid: z.number().int().optional(),
      host_ip: z.string().optional(),
      agent_ip: z.string().optional(),
      proxy_url: z.string().optional(),
      script_basename: z.string().optional(),
      script_arg_count: count.optional(),
      unsupported_paths: z.array(z.string()),
    }),
    artifacts: z.strictObject({
      packet: artifactPath,
      summary: artifactPath.optional(),
      evidence: artifactPath,
      verifier: artifactPath,
    }),
  })

}

export type AuditPacket = Z.infer<ReturnType<typeof build>>

/** The v0 packet schema (zod, strict). */
export async function packetSchema(): Promise<ReturnType<typeof build>> {
  const {z} = await import('zod')
  return build(z)
}

/**
 * The README invariants beyond the schema's shape (vectors/audit-packet/README.md). Returns
 * every problem, each naming the field.
 */
export function packetInvariantProblems(p: AuditPacket): string[] {
  const out: string[] = []
  const sum = VERDICT_BUCKETS.reduce((s, b) => s + p.summary.totals[b], 0)
  if (sum !== p.summary.receipt_count) out.push(`summary.totals sum to ${sum}, not summary.receipt_count ${p.summary.receipt_count}`)
  const v = p.verifier
  if (v.verdict === 'valid' && (!v.trusted || v.signer_key === undefined)) out.push('verifier.verdict "valid" requires trusted: true and a pinned signer_key')
  if (v.verdict !== 'valid' && v.trusted) out.push(`verifier.trusted must be false when the verdict is "${v.verdict}"`)
  if (v.trusted && v.signer_key === undefined) out.push('verifier.trusted requires signer_key')
  for (const [name, list] of [
    ['summary.domains_touched', p.summary.domains_touched],
    ['policy.policy_hashes', p.policy.policy_hashes],
  ] as const) {
    if (list === undefined) continue
    for (let i = 1; i < list.length; i++) {
      const a = list[i - 1] as string
      const b = list[i] as string
      if (a === b) out.push(`${name} has a duplicate: ${JSON.stringify(b)}`)
      else if (a > b) out.push(`${name} is not sorted: ${JSON.stringify(a)} before ${JSON.stringify(b)}`)
    }
  }
  return out
}
