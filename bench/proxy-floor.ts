/**
 * The floor of a scanning proxy for the `proxy` bench (issue 36): the CPU per request of exactly
 * the checks pipelock must run on the bench's workload, in process, with the scanner the proxy
 * arm builds from its own config file — the URL scan of the bench URL (with the arm's rate limiter
 * and data budget), header DLP of the bench client's request headers (wrk sends `Host` alone) and
 * the response check of the origin's body. For a text body that check's floor is the RE2 walks
 * runtime.md §7 requires on it (`scan-floor.ts` `responseFloor`: the page and, for markup, its
 * visible text), not pipelock's own check, which is measured beside it; for a binary body it is
 * the check as the forward exchange runs it (`decideResponseBody`). No relay, no gate, no record
 * step: a proxy that relays like the bare Node relay and runs these checks cannot use less CPU
 * than "bare relay + checks" on this machine.
 *
 * CPU is the process's own (`process.cpuUsage`, every thread), measured while nothing else in the
 * bench process runs (between wrk runs), so it is per CPU second like the proxies' figures.
 */
import {isUtf8} from 'node:buffer'
import {systemClock} from '../src/plugins/canonical/index.js'
import {loadConfig} from '../src/plugins/config/index.js'
import {scannerSettingsFromConfig} from '../src/plugins/proxy/index.js'
import {createScanner, DataBudget, RateLimiter, type HeaderList, type Scanner} from '../src/plugins/scanner/index.js'
import {cpuPerCall} from './cpu-per-call.js'
import {responseFloor} from './scan-floor.js'

/** One request of the bench's workload, as the proxy sees it. */
export interface FloorWorkload {
  /** The absolute URL the client asks for. */
  readonly url: string
  /** The client's request headers, as received. */
  readonly headers: HeaderList
  /** The origin's response body. */
  readonly body: Uint8Array
  /** The response's host, for `response_scanning.exempt_domains`. */
  readonly host: string
  /** Whether the body is markup (its visible text is checked too). */
  readonly markup: boolean
}

/** CPU µs per call of each check, and the floor they make. */
export interface FloorChecks {
  readonly urlUs: number
  readonly headersUs: number
  /** Pipelock's own response check (`decideResponseBody`). */
  readonly responseUs: number
  /** The RE2 walks §7 requires on a text body (null: a binary body). */
  readonly walksUs: number | null
  /** URL scan + header DLP + the response's floor (the walks of a text body, else the check). */
  readonly totalUs: number
}

/** What the checks of one proxy arm read: the scanner `pipelock run` builds from its config file, and the URL scan's context. */
export interface FloorCheckers {
  readonly scanner: Scanner
  /**
   * The proxy's URL scan context (core.ts urlScan) with a rate limiter and data budget of its own;
   * the bench URL's host is an IP literal, so the resolver is never asked.
   */
  readonly urlContext: {resolver: (host: string) => Promise<string[]>; rateLimiter: RateLimiter; dataBudget: DataBudget}
}

export function floorCheckers(configFile: string): FloorCheckers {
  const config = loadConfig(configFile, {env: process.env}).config
  return {
    scanner: createScanner(scannerSettingsFromConfig(config, {env: process.env})),
    urlContext: {resolver: async (h) => [h], rateLimiter: new RateLimiter(systemClock), dataBudget: new DataBudget(systemClock)},
  }
}

/** The checks of one proxy arm: its config file's scanner, rate limiter and data budget, as `pipelock run` builds them. */
export class ProxyFloor {
  private readonly checkers: FloorCheckers

  constructor(configFile: string, private readonly w: FloorWorkload) {
    this.checkers = floorCheckers(configFile)
    const sc = this.checkers.scanner
    // The bench URL must pass every check, as it does through the proxy: a floor of a blocked request is no floor.
    const verdicts = [sc.scanRequestHeaders(w.headers).action, sc.decideResponseBody(w.body, {host: w.host}).action]
    if (verdicts.some((v) => v !== 'allow')) throw new Error(`the bench request does not pass the checks of ${configFile}: ${verdicts.join('/')}`)
  }

  /** Measures each check for about `seconds` of wall time (after a short warm-up). */
  async measure(seconds: number): Promise<FloorChecks> {
    const {url, headers, body, host} = this.w
    const {scanner: sc, urlContext: ctx} = this.checkers
    const first = await sc.scanUrl(url, ctx)
    if (!first.allowed) throw new Error(`the bench URL does not pass the URL scan: ${first.detail}`)
    // The URL scan answers with a promise (awaited per call); the header and response checks are synchronous.
    const urlUs = await cpuPerCall(async () => sc.scanUrl(url, ctx), seconds / 3)
    const headersUs = await cpuPerCall(() => sc.scanRequestHeaders(headers), seconds / 3)
    const responseUs = await cpuPerCall(() => sc.decideResponseBody(body, {host, approverAvailable: false}), seconds / 3)
    const walksUs = isUtf8(body) ? (await responseFloor(sc.response, this.w.markup, [Buffer.from(body)], seconds / 3)).micros : null
    return {urlUs, headersUs, responseUs, walksUs, totalUs: urlUs + headersUs + (walksUs ?? responseUs)}
  }
}
