import {parseGoTime, toEpochNanos, type Clock} from '../src/plugins/canonical/index.js'
import {openCaptureWriter, type CaptureSummary} from '../src/plugins/capture/index.js'

// Reproducible capture corpora: a seeded PRNG drives every choice, timestamps come from a
// generator-owned clock, and the real capture writer produces the bytes (hash chains,
// checkpoints, rotation). Same spec + same seed ⇒ same files, byte for byte.

/** mulberry32: tiny, fast, good enough for test data; never for anything secret. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface TrafficShape {
  /**
   * Weighted request templates; `{id}` is replaced by an id from `ids`, and `{hash}` (40 hex
   * digits) and `{uuid}` by values derived from the same id (so `ids` bounds their cardinality).
   */
  routes: {method: string; url: string; weight: number; action?: string; surface?: string; actionClass?: string; ids?: number; transport?: CaptureTransport; mcp?: McpRoute; urlOf?: (id: number) => string}[]
}

/**
 * How a record was captured (transports.md §1.4, §2.13): `forward` (default); `intercept` — an
 * inner request of an intercepted CONNECT tunnel (envelope transport `connect`, subsurface
 * `intercept_url` / `dlp_body_intercept` / `response_intercept`); `connect` — the tunnel itself; `websocket` / `reverse` — a /ws handshake or a reverse-proxy request.
 */
export type CaptureTransport = 'forward' | 'intercept' | 'connect' | 'websocket' | 'reverse'

function envelopeOf(transport: CaptureTransport, surface: string): {transport: string; subsurface: string} {
  if (transport === 'intercept') return {transport: 'connect', subsurface: surface === 'dlp' ? 'dlp_body_intercept' : surface === 'response' ? 'response_intercept' : 'intercept_url'}
  return {transport, subsurface: transport}
}

/** [ext, mcp.md §15.6.1] a tool call as `mcp proxy --capture-output` records it (`url` is ignored). */
export interface McpRoute {
  server: string
  tool: string
  /** The captured argument shape (`tool_args_json`). */
  args: string
}

export interface CorpusSpec {
  seed: number
  agent: string
  sessions: number
  events: number
  /** RFC 3339 start of the observation. */
  start: string
  /** Seconds the events are spread over. */
  spanSeconds: number
  shape: TrafficShape
  /** Lines per capture file before rotation (writer default 10000). */
  linesPerFile?: number
  /** Records per checkpoint (writer default 1000). */
  checkpointEvery?: number
}

export interface GeneratedCorpus {
  events: number
  sessions: string[]
}

/** `n` hex digits derived from an id (deterministic, well spread). */
function idHex(id: number, n: number): string {
  const r = seededRandom(id * 2654435761 + 17)
  let out = ''
  while (out.length < n) out += Math.floor(r() * 2 ** 32).toString(16).padStart(8, '0')
  return out.slice(0, n)
}

function idUuid(id: number): string {
  const h = idHex(id + 0x5bd1e995, 32)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/**
 * A realistic agent's traffic (issue 18): a few busy API hosts whose paths carry numeric ids,
 * content hashes and session uuids (≈ a quarter of a million distinct raw paths at 1M events),
 * plus a long tail of `tailHosts` rarely visited hosts with Zipf-distributed weights.
 */
export function realisticShape(tailHosts = 2000): TrafficShape {
  const API = 'https://api.example.com'
  const routes: TrafficShape['routes'] = [
    {method: 'GET', url: `${API}/v1/users/{id}`, weight: 26, ids: 60_000},
    {method: 'PATCH', url: `${API}/v1/users/{id}`, weight: 3, ids: 60_000},
    {method: 'GET', url: `${API}/v1/users/me`, weight: 8},
    {method: 'GET', url: `${API}/v1/orgs/{id}/repos`, weight: 9, ids: 500},
    {method: 'POST', url: `${API}/v1/orgs/{id}/repos`, weight: 2, ids: 500, action: 'warn'},
    {method: 'GET', url: `${API}/v1/blobs/{hash}`, weight: 10, ids: 90_000},
    {method: 'GET', url: `${API}/v1/sessions/{uuid}/events`, weight: 7, ids: 70_000},
    {method: 'DELETE', url: `${API}/v1/sessions/{uuid}`, weight: 1, ids: 70_000},
    {method: 'GET', url: 'https://registry.example.org/pkg/{id}/tarball', weight: 5, ids: 20_000},
    {method: 'GET', url: 'https://cdn.example.net/assets/app.{hash}.js', weight: 6, ids: 40, surface: 'response'},
    {method: 'POST', url: 'https://paste.example.org/upload', weight: 0.5, action: 'block', surface: 'dlp'},
    {method: 'GET', url: 'https://docs.example.com/guide', weight: 4},
    {method: 'GET', url: 'https://docs.example.com/reference', weight: 3},
  ]
  // The tail: ≈ 15% of the traffic over `tailHosts` hosts, Zipf-weighted by rank.
  const tlds = ['com', 'net', 'org', 'io', 'dev', 'co.uk']
  let zipf = 0
  for (let r = 1; r <= tailHosts; r++) zipf += 1 / r ** 1.1
  for (let r = 1; r <= tailHosts; r++) {
    const host = `https://svc${r}.tail-${r % 97}.${tlds[r % tlds.length]}`
    const w = (15 * (1 / r ** 1.1)) / zipf
    routes.push({method: 'GET', url: `${host}/`, weight: w * 0.6})
    routes.push({method: 'GET', url: `${host}/api/v2/items/{id}`, weight: w * 0.4, ids: 50})
  }
  return {routes}
}

/**
 * Route choice for shapes of thousands of routes: binary search over cumulative weights. Small
 * shapes (every golden corpus) keep the linear fold below, so their bytes do not change.
 */
function cumulativePicker<T extends {weight: number}>(items: readonly T[]): (r: number) => T {
  const cum = new Float64Array(items.length)
  let acc = 0
  for (let i = 0; i < items.length; i++) cum[i] = acc += (items[i] as T).weight
  return (r) => {
    const x = r * acc
    let lo = 0
    let hi = items.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cum[mid] as number) > x) hi = mid
      else lo = mid + 1
    }
    return items[lo] as T
  }
}

const LINEAR_PICK_MAX = 256

/**
 * The benchmark's default corpus since issue 34/36: what a fleet of agents really fetches. Two
 * parts, by share of events:
 *
 * - 55 %: the busy API hosts of `realisticShape` (numeric ids, 40-hex content hashes and session
 *   uuids in paths; ≈ a quarter of a million distinct raw paths at 1M events).
 * - 45 %: `hosts` low-volume hosts (default 10,000), Zipf-weighted by rank (s = 0.8): at 1M events
 *   the busiest sees ≈ 17,000 events, the median ≈ 18, the last ≈ 10. Each host is one of five
 *   kinds (by rank modulo 10), with 2–3 routes and this many distinct values per varying segment:
 *   - 30 % sites: `/`, `/docs/{slug}` (40 slugs), `/blog/{year}/{slug}` (5 × 40);
 *   - 20 % REST APIs: `/api/v1/items/{id}` and `/api/v1/items/{id}/comments` (1,000 numeric ids
 *     each), `/api/v1/me`;
 *   - 20 % object stores / CDNs: `/objects/{sha256}` (2,000 64-hex digests),
 *     `/assets/{name}.{hash8}.js` (50 bundles);
 *   - 20 % release hosts: `/{owner}/{repo}/releases/download/v{x.y.z}/{repo}-{x.y.z}-{os}-{arch}.tar.gz`
 *     (60 versions × 6 platforms = 360 assets), `/{owner}/{repo}/releases/latest`;
 *   - 10 % session APIs: GET and POST `/v2/sessions/{uuid}/messages` (5,000 uuids).
 *   So a tail host's distinct paths grow with its events (nearly every id event is a new path) up
 *   to its routes' bounds: ≈ 300,000 distinct raw paths over the tail at 1M events.
 */
export function fleetShape(hosts = 10_000): TrafficShape {
  const busy = realisticShape(0).routes
  const busyWeight = busy.reduce((a, r) => a + r.weight, 0)
  const routes: TrafficShape['routes'] = busy.map((r) => ({...r, weight: (55 * r.weight) / busyWeight}))
  const tlds = ['com', 'net', 'org', 'io', 'dev', 'co.uk', 'app', 'cloud']
  const words = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'nova', 'lumen', 'cobalt', 'quartz', 'ember']
  let zipf = 0
  for (let r = 1; r <= hosts; r++) zipf += 1 / r ** 0.8
  for (let r = 1; r <= hosts; r++) {
    const w = (45 * (1 / r ** 0.8)) / zipf
    const name = `${words[r % words.length]}${r}`
    const host = `https://${r % 3 === 0 ? 'api.' : r % 3 === 1 ? 'www.' : ''}${name}.${tlds[r % tlds.length]}`
    const kind = r % 10
    if (kind <= 2) {
      routes.push({method: 'GET', url: `${host}/`, weight: w * 0.3})
      routes.push({method: 'GET', url: host, weight: w * 0.4, ids: 40, urlOf: (id) => `${host}/docs/${slug(id)}`})
      routes.push({method: 'GET', url: host, weight: w * 0.3, ids: 200, urlOf: (id) => `${host}/blog/${2021 + (id % 5)}/${slug(Math.floor(id / 5))}`})
    } else if (kind <= 4) {
      routes.push({method: 'GET', url: host, weight: w * 0.6, ids: 1000, urlOf: (id) => `${host}/api/v1/items/${1000 + id * 37}`})
      routes.push({method: 'GET', url: host, weight: w * 0.25, ids: 1000, urlOf: (id) => `${host}/api/v1/items/${1000 + id * 37}/comments`})
      routes.push({method: 'GET', url: `${host}/api/v1/me`, weight: w * 0.15})
    } else if (kind <= 6) {
      routes.push({method: 'GET', url: host, weight: w * 0.8, ids: 2000, urlOf: (id) => `${host}/objects/${idHex(id + r * 7919, 64)}`})
      routes.push({method: 'GET', url: host, weight: w * 0.2, ids: 50, surface: 'response', urlOf: (id) => `${host}/assets/${words[id % words.length]}.${idHex(id + r, 8)}.js`})
    } else if (kind <= 8) {
      const owner = `${words[(r >> 3) % words.length]}-labs`
      const repo = `${name}-cli`
      routes.push({method: 'GET', url: host, weight: w * 0.85, ids: 360, urlOf: (id) => `${host}/${owner}/${repo}/releases/download/v${release(id)}/${repo}-${release(id)}-${PLATFORMS[Math.floor(id / 60) % PLATFORMS.length]}.tar.gz`})
      routes.push({method: 'GET', url: `${host}/${owner}/${repo}/releases/latest`, weight: w * 0.15})
    } else {
      routes.push({method: 'GET', url: host, weight: w * 0.7, ids: 5000, urlOf: (id) => `${host}/v2/sessions/${idUuid(id + r * 100_003)}/messages`})
      routes.push({method: 'POST', url: host, weight: w * 0.3, ids: 5000, urlOf: (id) => `${host}/v2/sessions/${idUuid(id + r * 100_003)}/messages`})
    }
  }
  return {routes}
}

const PLATFORMS = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64', 'windows-amd64', 'freebsd-amd64']

/** `major.minor.patch` for the id's release (60 releases). */
function release(id: number): string {
  const v = id % 60
  return `${1 + Math.floor(v / 20)}.${Math.floor(v / 4) % 5}.${v % 4}`
}

/** A readable slug: two words and a number. */
function slug(id: number): string {
  const a = ['getting-started', 'install', 'configure', 'upgrade', 'faq', 'api', 'cli', 'security']
  return `${a[id % a.length]}-${Math.floor(id / a.length)}`
}

/** `total` is the items' weight sum, computed once per corpus (same fold order, same bits). */
function pick<T extends {weight: number}>(items: readonly T[], total: number, r: number): T {
  let x = r * total
  for (const it of items) {
    x -= it.weight
    if (x < 0) return it
  }
  return items[items.length - 1] as T
}

/**
 * Writes a capture directory (one sub-directory per session, as learn observe lays it out).
 * Events are produced in timestamp order, each assigned to a random session.
 */
export function generateCorpus(dir: string, spec: CorpusSpec): GeneratedCorpus {
  const rnd = seededRandom(spec.seed)
  const startNs = toEpochNanos(parseGoTime(spec.start))
  let now = startNs
  const clock: Clock = {nowNanos: () => now}
  const writer = openCaptureWriter(dir, {
    clock,
    ...(spec.linesPerFile ? {linesPerFile: spec.linesPerFile} : {}),
    ...(spec.checkpointEvery ? {checkpointEvery: spec.checkpointEvery} : {}),
  })
  const sessions = Array.from({length: spec.sessions}, (_, i) => `${spec.agent}|10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`)
  const totalWeight = spec.shape.routes.reduce((a, x) => a + x.weight, 0)
  const stepNs = (BigInt(spec.spanSeconds) * 1_000_000_000n) / BigInt(Math.max(1, spec.events))
  const routes = spec.shape.routes
  const pickRoute = routes.length > LINEAR_PICK_MAX ? cumulativePicker(routes) : (r: number) => pick(routes, totalWeight, r)
  for (let i = 0; i < spec.events; i++) {
    // millisecond jitter keeps timestamps realistic (fractions in `ts`) and monotonic
    now = startNs + BigInt(i) * stepNs + BigInt(Math.floor(rnd() * 1000)) * 1_000_000n
    const route = pickRoute(rnd())
    if (route.mcp !== undefined) {
      writer.append({sessionId: `${spec.agent}|mcp-stdio-${1 + Math.floor(rnd() * spec.sessions)}`, transport: 'mcp_stdio', detail: mcpDetail(spec.agent, route.mcp, route.action ?? 'allow')})
      continue
    }
    const id = route.ids ? Math.floor(rnd() * route.ids) : 0
    let url = route.urlOf !== undefined ? route.urlOf(id) : route.url.replace('{id}', String(10_000 + id * 7919))
    // Only templates that name them pay for hashes and uuids (the golden corpora name neither,
    // so their bytes do not depend on this).
    if (url.includes('{hash}')) url = url.replaceAll('{hash}', idHex(id, 40))
    if (url.includes('{uuid}')) url = url.replaceAll('{uuid}', idUuid(id))
    const surface = route.surface ?? 'url'
    const env = envelopeOf(route.transport ?? 'forward', surface)
    const payload = route.method === 'GET' ? 0 : 64 + Math.floor(rnd() * 4096)
    const detail: CaptureSummary = {
      capture_schema_version: 1,
      surface,
      subsurface: env.subsurface,
      config_hash: 'sha256:golden-config',
      build_version: 'golden',
      build_sha: 'golden',
      agent: spec.agent,
      ...(route.actionClass === '' ? {} : {action_class: route.actionClass ?? (route.method === 'GET' ? 'read' : 'write')}),
      ...(payload > 0 ? {payload_bytes: payload} : {}),
      payload_complete: payload > 0,
      transform_kind: surface === 'response' ? 'readability' : surface === 'dlp' ? 'raw' : '',
      scanner_bytes: Buffer.byteLength(url),
      scanner_sample: url,
      request: {method: route.method, url},
      raw_findings: null,
      effective_findings: null,
      effective_action: route.action ?? 'allow',
      outcome: route.action === 'block' ? 'blocked' : route.action === 'warn' ? 'warned' : 'clean',
    }
    writer.append({sessionId: sessions[Math.floor(rnd() * sessions.length)] as string, transport: env.transport, detail})
  }
  writer.close()
  return {events: spec.events, sessions}
}

/** The capture record of one MCP tool call (mcp-proxy/capture-sink.ts writes the same fields). */
function mcpDetail(agent: string, m: McpRoute, action: string): CaptureSummary {
  return {
    capture_schema_version: 1,
    surface: 'tool_policy',
    subsurface: 'mcp_tool_call',
    config_hash: 'sha256:golden-config',
    build_version: 'golden',
    build_sha: 'golden',
    agent,
    action_class: /^(get|list|read|search)/i.test(m.tool) ? 'read' : 'unclassified',
    payload_complete: false,
    transform_kind: 'raw',
    request: {method: '', url: '', tool_name: m.tool, tool_args_json: m.args, mcp_method: 'tools/call', mcp_server: m.server},
    raw_findings: action === 'allow' ? null : [{kind: 'mcp_input_scanning', action, tool_name: m.tool}],
    effective_findings: action === 'allow' ? null : [{kind: 'mcp_input_scanning', action, tool_name: m.tool}],
    effective_action: action,
    outcome: action === 'block' ? 'blocked' : action === 'warn' ? 'warned' : 'clean',
  }
}
