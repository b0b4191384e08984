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
  // raw_escrow and retention_days are refused by the recorder itself (recorder-sink.ts).
  'flight_recorder',
  // §14: sessions, scoring, levels, decay, time recovery, UpgradeAction, block_all (session-gate.ts).
  'session_profiling',
  // Operations §5: entropy budget and fragment reassembly across requests (src/plugins/cee, cee-gate.ts).
  'cross_request_detection',
  // §15 + OP §6: tiers, triggers, timers, in-flight counts, live-work cutting (airlock.ts, session-gate.ts).
  'airlock',
  'adaptive_enforcement',
  // §16: with session profiling on, taint is active (policy `balanced`; see assertTaintImplemented
  // for the combinations refused). With profiling off it is inert, as in the reference.
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
  ]
  if (set.length === 0) return []
  return [`pipelock: ${set.join(', ')} ignored: agent profiles need no licence in this build`]
}

/**
 * Taint combinations this build cannot honour (fail closed, §20.4 last bullet). The spec defines
 * the `balanced` behaviour only (§16: a mutating request to a protected/elevated path from a
 * contaminated session asks); `strict` and `permissive` name no behaviour, and config-level
 * `trust_overrides` have no specified matching rules. Inert (accepted) while session profiling
 * is off, because taint is then inert too.
 */
export function assertTaintImplemented(c: PipelockConfig): void {
  if (!c.taint.enabled || !c.session_profiling.enabled) return
  if (c.taint.policy !== 'balanced') {
    throw new PipelockError('NOT_IMPLEMENTED', `config enables taint.policy: ${c.taint.policy} with session_profiling, which this version does not implement (only "balanced"); refusing to start`, {
      hint: 'set taint.policy: balanced, or disable taint (see docs/run.md, "Sessions and adaptive enforcement")',
    })
  }
  if (c.taint.trust_overrides.length > 0) {
    throw new PipelockError('NOT_IMPLEMENTED', 'config sets taint.trust_overrides with session_profiling, which this version does not implement; refusing to start', {
      hint: 'remove taint.trust_overrides (see docs/run.md, "Sessions and adaptive enforcement")',
    })
  }
}
