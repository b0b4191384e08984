/**
 * What one intercepted tunnel costs the proxy's heap (issue 16: the scavenges and mark-compacts
 * inside a burst of 256 tunnels are stalls too, and they cost in proportion to what the burst
 * allocates and keeps alive). Against the built `pipelock run` with interception on (the
 * `tls-tunnels` origin and config), `heap-probe.ts` preloaded with `--expose-gc`:
 *  - `N tunnels, one host`: N tunnels opened at once to one cached host (CONNECT, TLS handshake,
 *    one 1 KiB GET each) and held open; then all closed at once;
 *  - `N hosts`: the same to N addresses (a leaf and its TLS server each: what the leaf cache keeps).
 * Per arm: bytes **allocated** per tunnel while opening and while closing (V8's sampling heap
 * profiler with collected objects included: load-independent), bytes **retained** per open
 * tunnel (live heap after full collections, open − before), what is left per tunnel once all
 * closed (open − before: the leaf cache's share in the hosts arm, 0 otherwise), and per
 * collection kind the count, pause and bytes that survived scavenges while opening. With
 * `--baseline DIR` another build runs the same arms in the same run; `--rounds N` alternates.
 * `--top` prints the top allocating functions of this build's last round. Reports; no assertions.
 *
 *   node dist/bench/tls-tunnel-heap.js [--tunnels N] [--baseline DIR] [--rounds N] [--top] [--snapshots DIR]
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {repoRoot, spawnPipelock} from './peer-processes.js'
import {loopback, tunnel, tunnelFixture} from './tls-tunnels.js'

interface ProbeLine {
  step: number
  used_heap_bytes: number
  external_bytes: number
  allocated_bytes?: number
  top?: Array<[string, number]>
  gc?: Record<string, {count: number; pause_ms: number; survived_bytes: number}>
}

const kib = (b: number): number => Number((b / 1024).toFixed(1))

export async function runTlsTunnelHeapBench(args: string[] = []): Promise<Record<string, unknown>[]> {
  const arg = (name: string, d: number): number => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d)
  const n = arg('--tunnels', 256)
  const rounds = arg('--rounds', 1)
  const hosts = Array.from({length: n}, (_, k) => loopback(k + 1))
  const warmHosts = Array.from({length: 16}, (_, k) => loopback(512 + k + 1))
  const {dir, upPort, ca, cfg, listeners} = await tunnelFixture([...hosts, ...warmHosts, '127.0.0.1'], [], 1)
  const base = args.indexOf('--baseline')
  const snaps = args.indexOf('--snapshots')
  const builds: Array<[string, string]> = [['this build', repoRoot]]
  if (base >= 0) builds.unshift(['baseline', path.resolve(args[base + 1]!)])
  const rows: Record<string, unknown>[] = []
  const tops: string[] = []
  const probe = path.join(repoRoot, 'dist', 'bench', 'heap-probe.js')
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [build, root] of round % 2 === 0 ? builds : [...builds].reverse()) {
        const file = path.join(dir, `probe-${build.replace(' ', '-')}-${round}.jsonl`)
        process.env.PL_HEAP_PROBE_FILE = file
        if (snaps >= 0) {
          const d = path.join(args[snaps + 1]!, build.replace(' ', '-'))
          mkdirSync(d, {recursive: true})
          process.env.PL_HEAP_SNAPSHOT_DIR = d
        }
        const pl = await spawnPipelock(root, cfg, [], ['--expose-gc', '--import', pathToFileURL(probe).href])
        let lines = 0
        const step = async (): Promise<ProbeLine> => {
          pl.proc.kill('SIGUSR2')
          lines++
          for (;;) {
            const got = existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []
            if (got.length >= lines) return JSON.parse(got[lines - 1]!) as ProbeLine
            await new Promise((r) => setTimeout(r, 20))
          }
        }
        // Warm-up: JIT, the upstream pool, a few mints, the one host's leaf.
        for (let w = 0; w < 2; w++) for (const o of await Promise.all([...warmHosts, ...warmHosts.map(() => '127.0.0.1')].map((h) => tunnel(pl.port, h, upPort, ca)))) o.socket.destroy()
        await new Promise((r) => setTimeout(r, 300))
        for (const [name, targets] of [[`${n} tunnels, one host`, Array.from({length: n}, () => '127.0.0.1')], [`${n} hosts (leaf mints)`, hosts]] as const) {
          const before = await step()
          const open = await Promise.all(targets.map((h) => tunnel(pl.port, h, upPort, ca)))
          await new Promise((r) => setTimeout(r, 200))
          const opened = await step()
          const held = await step()
          for (const o of open) o.socket.destroy()
          await new Promise((r) => setTimeout(r, 500))
          const closed = await step()
          const gc = opened.gc ?? {}
          rows.push({
            ...(rounds > 1 ? {round: round + 1} : {}),
            build,
            arm: name,
            open_allocated_kib_per_tunnel: kib((opened.allocated_bytes ?? NaN) / n),
            open_retained_kib_per_tunnel: kib((held.used_heap_bytes - before.used_heap_bytes) / n),
            open_external_kib_per_tunnel: kib((held.external_bytes - before.external_bytes) / n),
            open_scavenges: gc.Scavenge?.count ?? 0,
            open_scavenge_survived_kib_per_tunnel: kib((gc.Scavenge?.survived_bytes ?? 0) / n),
            open_scavenge_pause_ms: Number((gc.Scavenge?.pause_ms ?? 0).toFixed(1)),
            open_mark_compacts: (gc.MarkSweepCompact?.count ?? 0),
            open_mark_compact_pause_ms: Number((gc.MarkSweepCompact?.pause_ms ?? 0).toFixed(1)),
            close_allocated_kib_per_tunnel: kib((closed.allocated_bytes ?? NaN) / n),
            left_after_close_kib_per_tunnel: kib((closed.used_heap_bytes - before.used_heap_bytes) / n),
          })
          if (build === 'this build' && round === rounds - 1 && args.includes('--top')) {
            tops.push(`${name}, opening (KiB per tunnel):`, ...(opened.top ?? []).map(([f, b]) => `  ${kib(b / n).toFixed(1).padStart(7)}  ${f}`))
            tops.push(`${name}, closing (KiB per tunnel):`, ...(closed.top ?? []).map(([f, b]) => `  ${kib(b / n).toFixed(1).padStart(7)}  ${f}`))
          }
        }
        pl.proc.kill('SIGINT')
        await new Promise((r) => pl.proc.once('exit', r))
      }
    }
  } finally {
    for (const l of listeners) l.close()
  }
  for (const t of tops) process.stderr.write(t + '\n')
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await runTlsTunnelHeapBench(process.argv.slice(2))) process.stdout.write(JSON.stringify(row) + '\n')
  process.exit(0)
}
