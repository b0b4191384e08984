import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import {generateBenchCorpus, type BenchCorpus} from './compile.js'

// `npm run bench -- shadow [--events N] [--sessions N] [--corpus realistic|api|simple] [--keep DIR] [--arms] [--baseline DIR]`:
// generates the compile benchmark's corpus, compiles a contract from it (child process), then
// replays the same corpus against that contract in another child (as `learn shadow` does) and
// reports records/s and the replaying child's peak RSS. `--arms` also replays with the contract
// loaded first on the replay's thread (`--no-overlap`), without the scan
// worker thread, with V8's default heap sizing throughout (`--big-heap`) and with
// `--optimize-for-size` throughout (`--small-heap`, as before issue 18) — one row each, same corpus
// and contract — and prints their rates as ratios to the first (`learn shadow`) row. `--baseline DIR`: one more row,
// the shadow child of another build of this repository (DIR holds its `dist/`, e.g. a worktree at
// the commit a branch started from), first and last, so a change is measured against the previous
// code in the same run.
// Targets (issues 17, 18): ≥ 50,000 events/s; peak RSS < 512 MB at 1M events, < 256 MB at 300k.

export async function runShadowBench(args: readonly string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name)
    return i >= 0 ? args[i + 1] : undefined
  }
  const events = Number(arg('--events') ?? 1_000_000)
  const sessions = Number(arg('--sessions') ?? 64)
  const named = arg('--corpus')
  if (named !== undefined && named !== 'realistic' && named !== 'api' && named !== 'simple') throw new Error(`--corpus takes realistic, api or simple, not ${JSON.stringify(named)}`)
  const corpus: BenchCorpus = named ?? 'realistic'
  const keep = arg('--keep')
  const dir = keep ?? mkdtempSync(path.join(tmpdir(), 'pipelock-bench-shadow-'))
  const work = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-shadow-work-'))
  try {
    mkdirSync(dir, {recursive: true})
    if (!(keep !== undefined && existsSync(keep) && readdirSync(keep).length > 0)) generateBenchCorpus(dir, events, sessions, corpus)
    const contract = path.join(work, 'contract.yaml')
    const compile = spawnSync(process.execPath, [fileURLToPath(new URL('./compile-child.js', import.meta.url)), dir, 'bench-agent', contract], {encoding: 'utf8'})
    if (compile.status !== 0) throw new Error(`compile child failed: ${compile.stderr}`)
    const rules = (JSON.parse(compile.stdout) as {rules: number}).rules
    const arms = args.includes('--arms') ? ['learn shadow', '--no-overlap', '--no-worker', '--big-heap', '--small-heap'] : ['learn shadow']
    const baseline = arg('--baseline')
    const baselineChild = baseline === undefined ? undefined : path.resolve(baseline, 'dist', 'bench', 'shadow-child.js')
    const rows: Record<string, unknown>[] = []
    if (baselineChild !== undefined) rows.push(replayArm(dir, contract, corpus, rules, 'baseline', baselineChild))
    for (const arm of arms) rows.push(replayArm(dir, contract, corpus, rules, arm))
    if (baselineChild !== undefined) rows.push(replayArm(dir, contract, corpus, rules, 'baseline', baselineChild))
    const first = rows.find((r) => r.arm === 'learn shadow') as {events_per_s: number}
    for (const row of rows) if (row.arm !== 'learn shadow') row.rate_vs_first = Number(((row.events_per_s as number) / first.events_per_s).toFixed(2))
    return rows
  } finally {
    if (keep === undefined) rmSync(dir, {recursive: true, force: true})
    rmSync(work, {recursive: true, force: true})
  }
}

/** One replay child: `learn shadow` as the command runs it, with one change (`--no-worker`, `--big-heap`, `--small-heap`), or another build's child. */
function replayArm(dir: string, contract: string, corpus: string, rules: number, arm: string, child = fileURLToPath(new URL('./shadow-child.js', import.meta.url))): Record<string, unknown> {
  const r = spawnSync(process.execPath, [child, dir, contract, ...(arm.startsWith('--') ? [arm] : [])], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`shadow child failed: ${r.stderr}`)
  const res = JSON.parse(r.stdout) as {overlapped?: boolean; records: number; replayed: number; changed: number; seconds: number; cpuSeconds: number; mainThreadCpuSeconds?: number; maxRssKiB: number; loadPeakKiB: number; loadSeconds: number; rssAfterKiB: number; scans?: number}
  const row: Record<string, unknown> = {
    arm,
    corpus,
    records: res.records,
    replayed: res.replayed,
    changed: res.changed,
    contract_rules: rules,
    contract_load_s: Number(res.loadSeconds.toFixed(2)),
    replay_s: Number(res.seconds.toFixed(2)),
    events_per_s: Math.round(res.records / res.seconds),
    // With the load overlapped (on a worker thread beside the first reads) `replay_s` runs from the load's start.
    events_per_s_with_load: Math.round(res.records / (res.overlapped === true ? res.seconds : res.seconds + res.loadSeconds)),
    events_per_cpu_s: Math.round(res.records / res.cpuSeconds),
    // the replay's own thread (the scans run beside it on the worker)
    ...(res.mainThreadCpuSeconds === undefined ? {} : {events_per_main_thread_cpu_s: Math.round(res.records / res.mainThreadCpuSeconds)}),
    peak_rss_mb: Math.round(res.maxRssKiB / 1024),
    contract_load_peak_rss_mb: Math.round(res.loadPeakKiB / 1024),
    rss_after_replay_mb: Math.round(res.rssAfterKiB / 1024),
    // URLs the scanner scanned (deterministic for a corpus and build; '-' from a build that does not report it)
    url_scans: res.scans ?? '-',
  }
  process.stderr.write(`shadow (${arm}): ${row.events_per_s} events/s (${row.events_per_cpu_s} per CPU second), peak RSS ${row.peak_rss_mb} MB (${row.records} records, ${rules} rules)\n`)
  return row
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runShadowBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
}
