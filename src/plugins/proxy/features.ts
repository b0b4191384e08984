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
  // Taint decisions need per-session exposure state, which only session profiling keeps (§16).
  // Session profiling refuses to start while unimplemented, so taint is inert here exactly as
  // it is in the reference with profiling off.
  'taint',
])
