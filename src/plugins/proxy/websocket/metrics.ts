/**
 * The WebSocket proxy's metric families (transports §3.9), owned by the proxy for its whole life
 * (reloads keep the counts) and rendered at every scrape. Labels are fixed sets, so cardinality is
 * bounded: `result` blocked|completed, `direction` client_to_server|server_to_client, `type`
 * text|binary|control, `scanner` dlp|injection|cross_request|media_policy.
 *
 * Frames: the `ws` library reassembles fragments, so a data message counts once (as the frames a
 * Go reader reports after reassembly would); control frames (ping, pong, close) count one each.
 */
import {Histogram, renderFamily} from '../metrics.js'

export type WsDirectionLabel = 'client_to_server' | 'server_to_client'
export type WsFrameType = 'text' | 'binary' | 'control'
export type WsScanner = 'dlp' | 'injection' | 'cross_request' | 'media_policy'

const DIRECTIONS: readonly WsDirectionLabel[] = ['client_to_server', 'server_to_client']
const FRAME_TYPES: readonly WsFrameType[] = ['text', 'binary', 'control']
const SCANNERS: readonly WsScanner[] = ['cross_request', 'dlp', 'injection', 'media_policy']

/** What one relay reports while it runs. */
export interface WsRelayMetrics {
  frame(type: WsFrameType): void
  bytes(direction: WsDirectionLabel, n: number): void
  scanHit(scanner: WsScanner): void
}

export class WsMetrics implements WsRelayMetrics {
  private blocked = 0
  private completed = 0
  private active = 0
  private readonly bytesBy = new Map<WsDirectionLabel, number>()
  private readonly frames = new Map<WsFrameType, number>()
  private readonly hits = new Map<WsScanner, number>()
  private readonly duration = new Histogram('pipelock_ws_duration_seconds', 'WebSocket relay lifetime.', [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600])

  /** A handshake the admission blocked (a `403`/`429` answer before any upgrade). */
  handshakeBlocked(): void {
    this.blocked++
  }

  relayOpened(): void {
    this.active++
  }

  /** `proxyClosed`: the proxy ended the relay with a close of its own (policy, size, protocol, timer). */
  relayClosed(proxyClosed: boolean, seconds: number): void {
    this.active--
    if (proxyClosed) this.blocked++
    else this.completed++
    this.duration.observe(seconds)
  }

  frame(type: WsFrameType): void {
    this.frames.set(type, (this.frames.get(type) ?? 0) + 1)
  }

  bytes(direction: WsDirectionLabel, n: number): void {
    this.bytesBy.set(direction, (this.bytesBy.get(direction) ?? 0) + n)
  }

  scanHit(scanner: WsScanner): void {
    this.hits.set(scanner, (this.hits.get(scanner) ?? 0) + 1)
  }

  render(out: string[]): void {
    renderFamily(out, 'pipelock_ws_connections_total', 'WebSocket connections by result (blocked: refused at the handshake or closed by the proxy).', 'counter', [[{result: 'blocked'}, this.blocked], [{result: 'completed'}, this.completed]])
    renderFamily(out, 'pipelock_ws_active_connections', 'Open WebSocket relays.', 'gauge', [[{}, this.active]])
    this.duration.render(out)
    renderFamily(out, 'pipelock_ws_bytes_total', 'WebSocket payload bytes relayed, by direction.', 'counter', DIRECTIONS.map((d) => [{direction: d}, this.bytesBy.get(d) ?? 0] as const))
    renderFamily(out, 'pipelock_ws_frames_total', 'WebSocket messages and control frames read, by type.', 'counter', FRAME_TYPES.map((t) => [{type: t}, this.frames.get(t) ?? 0] as const))
    renderFamily(out, 'pipelock_ws_scan_hits_total', 'WebSocket messages with a scanner finding, by scanner.', 'counter', SCANNERS.map((s) => [{scanner: s}, this.hits.get(s) ?? 0] as const))
  }
}
