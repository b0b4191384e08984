/**
 * A listener another plugin hosts inside `pipelock run` (today: the MCP HTTP listener of
 * `run --mcp-listen`, mcp.md §2.9). The run owns everything such a listener shares — the config
 * snapshot and its hot reload, the kill switch, the audit log and metrics (on the server), the
 * receipt chains and the capture directory — and hands them over here, so the hosted listener
 * plugs into the same evidence instead of opening its own. The proxy never imports the plugin
 * that implements it (the command wires the two together).
 */
import type {PipelockConfig} from '../config/index.js'
import type {ReceiptChains} from './recorder-sink.js'
import type {ProxyServer} from './server.js'

export interface RunHost {
  /** Snapshot (config + scanner, swapped on reload), kill switch, audit log, metrics, contracts. */
  readonly server: ProxyServer
  /** The run's signed receipt chains; undefined without `flight_recorder.signing_key_path`. */
  readonly chains: ReceiptChains | undefined
  /** The run's capture directory (`--capture-output` or `learn.capture_dir`), when capturing. */
  readonly captureDir: string | undefined
  readonly captureRaw: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  readonly build: {readonly version: string; readonly sha: string}
  readonly stderr: (line: string) => void
}

export interface HostedListener {
  /** Bound address (the real port when `:0` was asked for). */
  readonly address: string
  /** The upstream as the banner shows it. */
  readonly upstream: string
  /** Graceful close (drains in-flight requests, ≤ 5 s), before the run closes its evidence. */
  close(): Promise<void>
}

export interface RunAttachment {
  /**
   * Refuses a config this listener cannot honour (start-up and every reload, like the run's own
   * feature check): throws a PipelockError.
   */
  check(config: PipelockConfig): void
  /** Binds before the main proxy starts; a failure refuses start-up. */
  start(host: RunHost): Promise<HostedListener>
}
