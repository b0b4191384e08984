import type {LoadedConfig} from '../config/index.js'
import type {AuditPacket} from './packet-schema.js'

// The posture and scanner snapshot of an audit packet, read from the configuration the proxy
// ran with — never guessed. What Pipelock cannot know about the host (raw sockets, the Docker
// socket, direct DNS, whether clients are forced through the proxy) is `unknown`: it does not
// probe them, and the packet says so instead of claiming a boundary it did not build.

export function postureFromConfig(loaded: LoadedConfig, platform: string, arch: string): AuditPacket['posture'] {
  const c = loaded.config
  const ws = c.websocket_proxy.enabled && c.websocket_proxy.scan_text_frames
  const unsupported = [
    // A host proxy sees only traffic sent to it: anything the agent sends directly bypasses it.
    'direct-egress-not-via-proxy',
    'non-http-protocols',
    'udp',
  ]
  if (!c.forward_proxy.enabled) unsupported.push('http-forward-proxy-and-connect')
  if (!c.tls_interception.enabled) unsupported.push('https-body-inspection-inside-connect-tunnels')
  if (!ws) unsupported.push('websocket-frames')
  return {
    enforcement_mode: 'host_proxy_only',
    runner_os: osName(platform),
    runner_arch: arch,
    raw_socket_status: 'unknown',
    docker_socket_status: 'unknown',
    dns_udp_status: 'unknown',
    browser_proxy_status: 'unknown',
    websocket_frame_scanning: ws ? 'explicit_ws_proxy_path_required' : 'off',
    proxy_url: `http://${c.fetch_proxy.listen}`,
    unsupported_paths: unsupported.sort(),
  }
}

export function scannerSnapshot(loaded: LoadedConfig): NonNullable<AuditPacket['scanner_config_snapshot']> {
  const c = loaded.config
  return {
    mode: c.mode,
    dlp_patterns_count: c.dlp.patterns.length,
    response_patterns_count: c.response_scanning.enabled ? c.response_scanning.patterns.length : 0,
    redaction_enabled: c.redaction.enabled,
    flight_recorder_enabled: c.flight_recorder.enabled,
  }
}

function osName(platform: string): string {
  return platform === 'linux' ? 'Linux' : platform === 'darwin' ? 'macOS' : platform === 'win32' ? 'Windows' : platform
}
