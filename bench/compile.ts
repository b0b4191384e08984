import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {fleetShape, generateCorpus, realisticShape, type TrafficShape} from './corpus-generator.js'

// `npm run bench -- compile [--events N] [--sessions N] [--corpus realistic|api|simple] [--keep DIR]`:
// generates a seeded multi-session capture corpus (default 1,000,000 events) with the real
// capture writer, then compiles it in a child process and reports events/s and the child's peak
// RSS. Without --corpus it runs two corpora, one row each:
//   realistic  the default: busy API hosts plus 10,000 low-volume hosts whose paths carry ids,
//              hashes, uuids and release-asset names (fleetShape documents the distribution)
//   api        the earlier default: the busy API hosts and a 2,000-host Zipf tail (two routes each)
//   simple     the first corpus: eight routes, numeric ids only (--corpus simple)
// Targets (issues 18, 36): ≥ 50,000 events/s and peak RSS < 512 MB on each; the engine streams
// its input and its output.

export type BenchCorpus = 'realistic' | 'api' | 'simple'

export interface CompileBenchOptions {
  events?: number
  sessions?: number
  dir?: string
  corpus?: BenchCorpus
  /** Where the compiled contract YAML is written (for the shadow benchmark). */
  contractOut?: string
}

function parseArgs(args: readonly string[]): CompileBenchOptions {
  const o: CompileBenchOptions = {}
  for (let i = 0; i < args.length; i++) {
    const v = args[i + 1]
    if (args[i] === '--events' && v) (o.events = Number(v)), i++
    else if (args[i] === '--sessions' && v) (o.sessions = Number(v)), i++
    else if (args[i] === '--keep' && v) (o.dir = v), i++
    else if (args[i] === '--contract-out' && v) (o.contractOut = v), i++
    else if (args[i] === '--corpus' && (v === 'realistic' || v === 'api' || v === 'simple')) (o.corpus = v), i++
  }
  return o
}

const API = 'https://api.example.com'

/** The shape the benchmark used before the realistic corpus (few hosts, numeric ids only). */
const SIMPLE: TrafficShape = {
  routes: [
    {method: 'GET', url: `${API}/v1/users/{id}`, weight: 40, ids: 5000},
    {method: 'PATCH', url: `${API}/v1/users/{id}`, weight: 5, ids: 5000},
    {method: 'GET', url: `${API}/v1/users/me`, weight: 10},
    {method: 'GET', url: `${API}/v1/orgs/{id}/repos`, weight: 15, ids: 200},
    {method: 'POST', url: `${API}/v1/orgs/{id}/repos`, weight: 3, ids: 200, action: 'warn'},
    {method: 'GET', url: 'https://cdn.example.net/assets/app.js', weight: 15, surface: 'response'},
    {method: 'POST', url: 'https://paste.example.org/upload', weight: 1, action: 'block', surface: 'dlp'},
    {method: 'GET', url: 'https://docs.example.com/guide', weight: 11},
  ],
}

/** Generates the benchmark corpus into `dir`; returns the seconds it took. */
export function generateBenchCorpus(dir: string, events: number, sessions: number, corpus: BenchCorpus): number {
  const g0 = process.hrtime.bigint()
  generateCorpus(dir, {
    seed: 42,
    agent: 'bench-agent',
    sessions,
    events,
    start: '2026-05-01T00:00:00Z',
    spanSeconds: 24 * 3600,
    shape: corpus === 'simple' ? SIMPLE : corpus === 'api' ? realisticShape() : fleetShape(),
  })
  return Number(process.hrtime.bigint() - g0) / 1e9
}

export async function runCompileBench(opts: CompileBenchOptions | readonly string[] = {}): Promise<Record<string, unknown>[]> {
  const o = Array.isArray(opts) ? parseArgs(opts as readonly string[]) : (opts as CompileBenchOptions)
  if (o.corpus !== undefined) return [compileOne(o, o.corpus)]
  // Both corpora, one row each (--keep DIR keeps them as DIR/realistic and DIR/api).
  return (['realistic', 'api'] as const).map((c) => compileOne({...o, ...(o.dir === undefined ? {} : {dir: path.join(o.dir, c)})}, c))
}

function compileOne(o: CompileBenchOptions, corpus: BenchCorpus): Record<string, unknown> {
  const events = o.events ?? 1_000_000
  const sessions = o.sessions ?? 64
  const dir = o.dir ?? mkdtempSync(path.join(tmpdir(), 'pipelock-bench-compile-'))
  mkdirSync(dir, {recursive: true})
  try {
    // --keep DIR with a corpus already in it: reuse it (generating 1M events takes minutes).
    const genSeconds = o.dir !== undefined && existsSync(o.dir) && readdirSync(o.dir).length > 0 ? 0 : generateBenchCorpus(dir, events, sessions, corpus)
    const child = fileURLToPath(new URL('./compile-child.js', import.meta.url))
    const r = spawnSync(process.execPath, [child, dir, 'bench-agent', ...(o.contractOut ? [o.contractOut] : [])], {encoding: 'utf8', maxBuffer: 1 << 20})
    if (r.status !== 0) throw new Error(`compile child failed: ${r.stderr}`)
    const res = JSON.parse(r.stdout) as {files: number; entries: number; events: number; rules: number; seconds: number; cpuSeconds: number; maxRssKiB: number; pathRules: number}
    const row = {
      corpus,
      events: res.events,
      entries: res.entries,
      files: res.files,
      rules: res.rules,
      path_rules: res.pathRules,
      generate_s: Number(genSeconds.toFixed(1)),
      compile_s: Number(res.seconds.toFixed(2)),
      events_per_s: Math.round(res.events / res.seconds),
      // CPU time is the steadier figure on a shared machine.
      events_per_cpu_s: Math.round(res.events / res.cpuSeconds),
      peak_rss_mb: Math.round(res.maxRssKiB / 1024),
    }
    process.stderr.write(`compile (${corpus}): ${row.events_per_s} events/s (${row.events_per_cpu_s} per CPU second), peak RSS ${row.peak_rss_mb} MB (${row.events} events, ${row.rules} rules)\n`)
    return row
  } finally {
    if (o.dir === undefined) rmSync(dir, {recursive: true, force: true})
  }
}
