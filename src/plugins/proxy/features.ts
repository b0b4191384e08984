/**
 * The config feature sections this build of `pipelock run` implements (fed to the config
 * plugin's `assertImplemented`). Anything enabled and not listed refuses to start.
 */
import type {ResponseInjectionScanner} from './response-scan.js'

export function implementedFeatures(responseScanner: ResponseInjectionScanner | null): Set<string> {
  const s = new Set<string>([
    'forward_proxy',
    'dlp.scan_env',
    'dlp.secrets_file',
    'canary_tokens',
    'kill_switch',
    'kill_switch.api_listen',
    'metrics_listen',
    'health_watchdog',
    // Taint decisions need per-session exposure state, which only session profiling keeps (§16).
    // With profiling off (it refuses to start when on) taint is inert in the reference too.
    'taint',
  ])
  if (responseScanner !== null) {
    s.add('response_scanning')
    // Body scanning = DLP (here) + prompt injection (needs the response engine).
    s.add('request_body_scanning')
    s.add('request_body_scanning.scan_headers')
  }
  return s
}
