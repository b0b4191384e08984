import {parseGoDuration} from '../canonical/index.js'
import {ConfigFieldError} from './problems.js'

/**
 * `tls_interception.cert_ttl` (transports §2.1) in milliseconds: a Go duration, `""` read as
 * `24h`, zero or negative refused. One reading for `pipelock check`, `pipelock run`, a reload and
 * the interceptor that mints leaves with it, so `check` never accepts what `run` refuses.
 */
export function certTtlMs(certTtl: string): number {
  const path = ['tls_interception', 'cert_ttl']
  let ms: number
  try {
    ms = parseGoDuration(certTtl === '' ? '24h' : certTtl)
  } catch (e) {
    throw new ConfigFieldError(path, `time: ${(e as Error).message} (a Go duration such as 24h or 90m)`)
  }
  if (!(ms > 0)) throw new ConfigFieldError(path, `must be positive, got ${JSON.stringify(certTtl)}`)
  return ms
}
