import path from 'node:path'
import type {PipelockConfig} from '../config/index.js'

/**
 * What a deployment of one config needs to know, taken from the config itself: where the proxy
 * listens, which directories it writes (flight recorder, capture, audit log file) and which it
 * only reads (the contract store a fleet follows), and which emitters ship events off the host.
 */
export interface DeployPlan {
  /** The config file's path on the target host or in the container. */
  readonly configPath: string
  readonly listenHost: string
  readonly listenPort: number
  /** Directories the proxy writes, sorted. */
  readonly writableDirs: readonly string[]
  /** The contract store (learn_lock.store_dir), read-only for the proxy; '' when not used. */
  readonly contractStoreDir: string
  readonly emitters: readonly ('otlp' | 'syslog')[]
}

export function deployPlan(config: PipelockConfig, configPath: string): DeployPlan {
  const listen = config.fetch_proxy.listen
  const i = listen.lastIndexOf(':')
  const host = i < 0 ? '127.0.0.1' : listen.slice(0, i).replace(/^\[|\]$/g, '')
  const port = Number(i < 0 ? listen : listen.slice(i + 1))
  const dirs = new Set<string>()
  if (config.flight_recorder.enabled && config.flight_recorder.dir !== '') dirs.add(config.flight_recorder.dir)
  if (config.learn.capture_dir !== '') dirs.add(config.learn.capture_dir)
  if (config.logging.file !== '' && config.logging.output !== 'stdout') dirs.add(path.dirname(config.logging.file))
  const emitters: ('otlp' | 'syslog')[] = []
  if (config.emit.otlp.endpoint !== '') emitters.push('otlp')
  if (config.emit.syslog.address !== '') emitters.push('syslog')
  return {
    configPath,
    listenHost: host === '' ? '0.0.0.0' : host,
    listenPort: Number.isInteger(port) && port > 0 ? port : 8888,
    writableDirs: [...dirs].sort(),
    contractStoreDir: config.learn_lock.enabled ? config.learn_lock.store_dir : '',
    emitters,
  }
}
