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
  /** Weighted request templates; `{id}` is replaced by an id from `ids`. */
  routes: {method: string; url: string; weight: number; action?: string; surface?: string; actionClass?: string; ids?: number}[]
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

function pick<T extends {weight: number}>(items: readonly T[], r: number): T {
  const total = items.reduce((a, x) => a + x.weight, 0)
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
  const stepNs = (BigInt(spec.spanSeconds) * 1_000_000_000n) / BigInt(Math.max(1, spec.events))
  for (let i = 0; i < spec.events; i++) {
    // millisecond jitter keeps timestamps realistic (fractions in `ts`) and monotonic
    now = startNs + BigInt(i) * stepNs + BigInt(Math.floor(rnd() * 1000)) * 1_000_000n
    const route = pick(spec.shape.routes, rnd())
    const id = route.ids ? Math.floor(rnd() * route.ids) : 0
    const url = route.url.replace('{id}', String(10_000 + id * 7919))
    const surface = route.surface ?? 'url'
    const payload = route.method === 'GET' ? 0 : 64 + Math.floor(rnd() * 4096)
    const detail: CaptureSummary = {
      capture_schema_version: 1,
      surface,
      subsurface: 'forward',
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
    writer.append({sessionId: sessions[Math.floor(rnd() * sessions.length)] as string, transport: 'forward', detail})
  }
  writer.close()
  return {events: spec.events, sessions}
}
