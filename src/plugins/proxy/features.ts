import type {PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'

/**
 * The config feature sections this build of `pipelock run` implements (fed to the config
 * plugin's `assertImplemented`). Anything enabled and not listed refuses to start.
 */
export const IMPLEMENTED_FEATURES: ReadonlySet<string> = new Set([
  'forward_proxy',
  'response_scanning',
  'response_scanning.sse_streaming',
  'request_body_scanning',
  'request_body_scanning.scan_headers',
  'dlp.scan_env',
  'dlp.secrets_file',
  'canary_tokens',
  'seed_phrase_detection',
  'kill_switch',
  'kill_switch.api_listen',
  'metrics_listen',
  'health_watchdog',
  'media_policy',
  'logging.file',
  // retention_days: expiry behind retention anchors (recorder/retention.ts); raw_escrow: sealed sidecars (recorder/flight-recorder.ts).
  'flight_recorder',
  // §14: sessions, scoring, levels, decay, time recovery, UpgradeAction, block_all (session-gate.ts).
  'session_profiling',
  // Operations §5: entropy budget and fragment reassembly across requests (src/plugins/cee, cee-gate.ts).
  'cross_request_detection',
  // §15 + OP §6: tiers, triggers, timers, in-flight counts, live-work cutting (airlock.ts, session-gate.ts).
  'airlock',
  'adaptive_enforcement',
  // §16 + policy-extra §1: with session profiling on, taint is active — strict, balanced and
  // permissive, trust overrides (sessions/taint.ts, gate/stages/taint.ts; MCP in mcp-proxy).
  // With profiling off it is inert, as in the reference.
  'taint',
  // learn-compile §17, runtime §21.3: capture into learn.capture_dir (capture-sink.ts).
  'learn',
  // learn-lifecycle §7: live contracts, the store watch and the contract gate (src/plugins/gate).
  'learn_lock',
  // §3.1: the bound default identity is resolved in identity.ts.
  'bind_default_agent_identity',
  // operations.md §3: event emission (src/plugins/emit, wired in emission.ts).
  'emit.webhook',
  'emit.syslog',
  'emit.otlp',
  // operations.md §7.1: human-readable stdout log (audit-text.ts).
  'logging.format.text',
  // operations.md §2: profiles, listeners, source CIDRs, budgets (agent-*.ts, state.ts).
  'agents',
  // operations.md §4: suppression on response, SSE and request-body DLP findings (suppression.ts).
  'suppress',
  // operations.md §2.10: accepted and ignored — profiles are not licence-gated here (licenseLines).
  'license',
  // transports §2: CONNECT interception (intercept/), `pipelock tls …` for the CA.
  'tls_interception',
  // transports §3: /ws with frame scanning (websocket/handshake.ts, websocket/relay.ts).
  'websocket_proxy',
  // transports §4: the reverse proxy (reverse/handler.ts, reverse/url.ts).
  'reverse_proxy',
  // scanners-extra §5: community rule bundles, verified and fed to the DLP, response and MCP
  // tool-poison patterns in settings-from-config.ts (src/plugins/rules).
  'rules',
  // Mediation envelope spec: the header, RFC 9421 signing and the key directory (src/plugins/envelope,
  // gate/stages/envelope.ts, relay/mediation.ts); inbound verification (gate/stages/envelope-verify.ts).
  'mediation_envelope',
  'mediation_envelope.verify_inbound',
  // scanners-extra §1: POST /api/v1/scan on its own listener (scan-api/, started in run-service.ts).
  'scan_api',
  // scanners-extra §4: request bodies on forward/intercept/reverse (gate/stages/address.ts), outbound WebSocket text messages (websocket/relay.ts).
  'address_protection',
  // scanners-extra §2: request stage gate/stages/a2a.ts, responses relay/response-transforms.ts
  // (engine src/plugins/a2a); the MCP HTTP listener's side is in mcp-proxy.
  'a2a_scanning',
  // scanners-extra §3: relay/response-transforms.ts on fetch, forward, intercept and reverse (engine src/plugins/shield).
  'browser_shield',
  // envelope-redaction Part II: the gate's redaction stage (gate/stages/redaction.ts, src/plugins/redaction)
  // on forward, intercept and reverse; outbound WebSocket JSON messages in websocket/relay.ts.
  'redaction',
  // containment.md §4: git smart-HTTP pushes checked by the git_push gate stage
  // (gate/stages/git-push.ts); the pre-push hook is `pipelock git install-hooks` / `git scan-push`.
  'git_protection',
])

/** operations.md §2.10 / §12 Q1: licence inputs are accepted, ignored, and the start-up log says so. */
export function licenseLines(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>): string[] {
  const set = [
    ...(env.PIPELOCK_LICENSE_KEY !== undefined && env.PIPELOCK_LICENSE_KEY !== '' ? ['PIPELOCK_LICENSE_KEY'] : []),
    ...(c.license_file !== '' ? ['license_file'] : []),
    ...(c.license_key !== '' ? ['license_key'] : []),
    // The reference reads it only in development builds; here nothing verifies a licence.
    ...(c.license_public_key !== '' ? ['license_public_key'] : []),
  ]
  if (set.length === 0) return []
  return [`pipelock: ${set.join(', ')} ignored: agent profiles need no licence in this build`]
}

/** When a config is judged: before `pipelock run` opens anything, or on a reload of a running one. */
export type RunPhase = 'start' | 'reload'

/**
 * `ask` (docs/ask.md) needs an operator to answer: this build's channel is the admin API
 * (`GET/POST /api/v1/approvals`, `pipelock ask`), which holds requests only when an API token
 * existed at start-up. With `response_scanning.action: ask` and no token, start (or the reload)
 * is refused — a held request nobody can answer would only ever time out. (Taint asks need no
 * channel: without one they block, as in the reference.)
 */
export function assertAskChannel(c: PipelockConfig, env: Readonly<Record<string, string | undefined>>, phase: RunPhase = 'start'): void {
  if (!askConfigured(c)) return
  const envToken = env.PIPELOCK_KILLSWITCH_API_TOKEN ?? ''
  if (envToken !== '' || c.kill_switch.api_token !== '') return
  // A reload is refused while the proxy keeps running on its config: saying "refusing to start" there would mislead.
  const outcome = phase === 'start' ? 'refusing to start' : 'reload refused (the running config stays)'
  throw new PipelockError('NOT_IMPLEMENTED', `config sets response_scanning.action: ask but no operator channel is configured (the admin API needs kill_switch.api_token or PIPELOCK_KILLSWITCH_API_TOKEN); ${outcome}`, {
    hint: 'set kill_switch.api_token (answers come through `pipelock ask`), or use action: block (see docs/ask.md)',
  })
}

/** Whether the config holds requests for an operator (`response_scanning.action: ask`). */
export function askConfigured(c: PipelockConfig): boolean {
  return c.response_scanning.enabled && c.response_scanning.action === 'ask'
}

/**
 * runtime §20.6: a reload to `ask` on a run that started without an operator channel (no admin API
 * token then: the approvals API holds nothing) applies, but the scan blocks what it would ask about.
 */
export const ASK_WITHOUT_CHANNEL =
  'response_scanning.action: ask behaves as block: this run started without an admin API token, so no operator can answer a held request; restart pipelock run with kill_switch.api_token (or PIPELOCK_KILLSWITCH_API_TOKEN) set'

/** Why a held request is denied when a reload turns `ask` off (or a hold would start after it). */
export const ASK_WITHDRAWN = 'withdrawn by a config reload: response_scanning.action is no longer ask'

/** The approvals API's 409 (a run with a channel whose config in force does not ask): what is running, and what to do. */
export function noApprovalsReason(c: PipelockConfig): string {
  const now = c.response_scanning.enabled ? `response_scanning.action: ${c.response_scanning.action}` : 'response_scanning.enabled: false'
  return `no approvals: the running config holds no requests (${now}); set response_scanning.action: ask and reload (see docs/ask.md)`
}
