import os from 'node:os'
import {runCeeBench} from './cee.js'
import {runCeeBaselineBench} from './cee-baseline.js'
import {runCeeSurvivorsBench} from './cee-survivors.js'
import {runUrlGarbageBench} from './url-garbage.js'
import {runAgentResolveBench} from './agent-resolve.js'
import {runCompileBench} from './compile.js'
import {runEmitBench} from './emit.js'
import {runConnectBench} from './connect.js'
import {runLearnLockBench} from './learn-lock.js'
import {runReceiptCostBench} from './receipt-cost.js'
import {benchEvidence} from './evidence-verify.js'
import {runMcpBench} from './mcp.js'
import {runMcpEvidenceBench} from './mcp-evidence.js'
import {runMcpOffloadBench} from './mcp-offload.js'
import {runProxyPeersBench} from './proxy-peers.js'
import {runProxyBench} from './proxy.js'
import {runRelayPartsBench} from './relay-parts.js'
import {runRelayProfileBench} from './relay-profile.js'
import {runShadowBench} from './shadow.js'
import {runStartupBench} from './startup.js'
import {runSubsequenceBench} from './subsequence.js'
import {runUrlScanBench} from './url-scan.js'
import {runVerifyBench} from './verify.js'
import {runTlsInterceptBench} from './tls-intercept.js'
import {runTlsTunnelsBench} from './tls-tunnels.js'
import {runTlsTeardownBench} from './tls-teardown.js'
import {runTlsTunnelHeapBench} from './tls-tunnel-heap.js'
import {runYoungGenCostBench} from './young-gen-cost.js'
import {runWebSocketBench} from './websocket.js'

// `npm run bench -- <name> [options]`: runs one benchmark (or all with no name) and prints a
// results table. Benchmarks report ratios and rates measured in one run; they never assert.

type Bench = (args: string[]) => Promise<Record<string, unknown>[]>

const BENCHES: Record<string, {about: string; run: Bench}> = {
  verify: {about: 'write a signed receipt chain and verify it with the CLI (--receipts N, --million)', run: runVerifyBench as unknown as Bench},
  evidence: {about: 'EvidenceReceipt v2 verification cost relative to a bare Ed25519 verification', run: async () => benchEvidence() as unknown as Record<string, unknown>[]},
  'url-scan': {about: 'URL scan of a typical allowed URL: p50/p99 and per-stage breakdown ([iterations])', run: runUrlScanBench as unknown as Bench},
  compile: {about: 'generate 1,000,000-event corpora (realistic: 10,000 low-volume hosts; api: the earlier default) and compile each (events/s, peak RSS; --events N, --corpus realistic|api|simple, --keep DIR)', run: runCompileBench as unknown as Bench},
  shadow: {about: 'compile the same corpus, then replay it with learn shadow (events/s, peak RSS; --events N, --keep DIR, --arms: also without the scan worker and without --optimize-for-size)', run: runShadowBench as unknown as Bench},
  connect: {about: 'CONNECT tunnel, 10 MiB HTTPS download: throughput vs direct, CPU per 10 MiB and per tunnel (1 KiB), bare relay floor (--rounds N, --warmup N tunnels, --baseline DIR)', run: runConnectBench as unknown as Bench},
  proxy: {about: 'forward proxy vs squid, tinyproxy and a bare Node relay under wrk (Debian packages installed when missing): req/s, CPU µs/request, added p50; flags a >10% regression vs bench/proxy-last-run.json (--record stores this run, --baseline DIR adds another built checkout)', run: runProxyPeersBench as unknown as Bench},
  'relay-parts': {about: 'forward proxy per-request parts in process, CPU µs per call: response core scan (1 KiB binary, 1 KiB text), rate limiter at 60k live entries (--baseline DIR, --rounds N)', run: runRelayPartsBench as unknown as Bench},
  'relay-profile': {about: 'forward proxy under wrk c=50 with node --cpu-prof: self and inclusive time per function, file and subsystem, CPU µs per request, the measured window only (--seconds S, --warmup S, --rounds N, --top N, --baseline DIR, --bare: the bare relay too, --heap: bytes allocated per request instead, --out DIR keeps the profiles)', run: async (args) => (await runRelayProfileBench(args)).map((line) => ({profile: line}))},
  'proxy-node': {about: 'forward proxy on loopback vs direct with a node client: added p50/p99, throughput ratio, idle RSS, time to first request', run: runProxyBench as unknown as Bench},
  startup: {about: 'pipelock run start-up: spawn → banner → first request served, CPU and RSS; --version; alternating with --baseline DIR (another built checkout); --profile DIR: self time by package up to the first request ([--rounds N])', run: runStartupBench as unknown as Bench},
  'learn-lock': {about: 'contract gate cost with a 200-rule contract; throughput with capture / signed receipts on vs off ([seconds])', run: runLearnLockBench as unknown as Bench},
  'receipt-cost': {about: 'one decision receipt in process: Ed25519 sign and ReceiptEmitter.emit, node:crypto, CPU µs per op in alternating rounds, and what an emit costs beyond the signature ([rounds])', run: runReceiptCostBench as unknown as Bench},
  subsequence: {about: 'URL scan with vs without the §5.5 subsequence junction screen (old: every 2–4 value concatenation scanned), URLs of 256 B–2 KiB and 20-value shapes: CPU µs per scan and p50 ([iterations])', run: runSubsequenceBench as unknown as Bench},
  cee: {about: 'cross-request detection overhead per request with 10,000 active keys, URLs of 256 B–2 KiB: URL scan with CEE on − off at p50/p99, admit alone, GC share; measured requests from uniformly random warm agents, the count of distinct agents reported, the GC-hit share of each arm and on − off p99 over the samples without GC ([iterations] [--sizes 256,1024,2048])', run: runCeeBench as unknown as Bench},
  'cee-baseline': {about: 'cross-request detection admit CPU per request, this tree vs another built checkout alternating in one process, verdicts compared (--baseline DIR, --iterations N, --sizes 256,1024,2048)', run: runCeeBaselineBench as unknown as Bench},
  'cee-survivors': {about: 'what CEE leaves in the young generation: the cee 2 KiB loop under --trace-gc-nvp in a child per arm (URL scans only / scan + admit), alternating over --rounds N: scavenges, bytes copied per scavenge (survived + promoted) and per iteration, scavenge pause; --impl DIR alternates another build ([iterations] [--size B] [--rounds N] [--impl DIR])', run: runCeeSurvivorsBench as unknown as Bench},
  'url-garbage': {about: 'URL scan bytes allocated per scanUrl, scavenges per N scans and CPU per scan on the cee URLs (256 B–2 KiB) and a mixed set, this tree vs another built checkout alternating in one process, verdicts compared (--baseline DIR, --iterations N, --sizes 256,1024,2048)', run: runUrlGarbageBench as unknown as Bench},
  emit: {about: 'event emission at info to stalled webhook/OTLP/syslog sinks vs emission off: throughput and p99 ratios, RSS growth, drops ([seconds] [rounds])', run: runEmitBench as unknown as Bench},
  'agent-resolve': {about: 'agent identity resolution with 20 profiles (2 CIDRs each) vs none: µs per request ([iterations])', run: runAgentResolveBench as unknown as Bench},
  'tls-intercept': {about: 'TLS interception: leaf mint p50 and cache hit; added p50 per kept-alive request and per new tunnel vs direct, plain CONNECT and mitmdump (Debian mitmproxy, installed when missing) (--requests N, --tunnels N, --no-install)', run: runTlsInterceptBench as unknown as Bench},
  'tls-tunnels': {about: 'TLS interception: event-loop stall while 256 intercepted tunnels open at once (256 leaf mints, then one cached host): proxy loop lag max, /health probe latency from a worker (--tunnels N, --baseline DIR: another build in the same run, --turn-cpu: main-thread CPU stretches, --cpu-prof DIR)', run: runTlsTunnelsBench as unknown as Bench},
  'tls-teardown': {about: 'TLS interception: main-thread CPU of closing 256 intercepted-style TLS connections at once, node\'s graceful end vs destroy on EOF (--tunnels N, --rounds N)', run: runTlsTeardownBench as unknown as Bench},
  'tls-tunnel-heap': {about: 'TLS interception: heap bytes allocated and retained per intercepted tunnel while 256 open and close (sampling heap profiler, load-independent), scavenge survivors (--tunnels N, --baseline DIR, --rounds N, --top)', run: runTlsTunnelHeapBench as unknown as Bench},
  'young-gen-cost': {about: 'pipelock run: proxy CPU per request (intercepted and forward, 32 clients) by node flag set, alternating (--arms "A;B", --rounds N, --requests N, --baseline DIR)', run: runYoungGenCostBench as unknown as Bench},
  websocket: {about: '/ws relay per message: 100-byte round trips direct vs through pipelock (relay only, scanning), burst ms and pipelock CPU per message ([--round-trips N] [--burst M])', run: runWebSocketBench as unknown as Bench},
  'mcp-evidence': {about: 'MCP II: contract gate per tools/call (200 rules, in process); wrap throughput with signed receipts + capture on vs off ([calls])', run: runMcpEvidenceBench as unknown as Bench},
  'mcp-offload': {about: 'MCP listener: another session\'s small-call p50/p99 while one session streams large (512 KiB) tools/call messages, scan pool vs forced inline, alternating in one run ([smallCalls] [largeKiB])', run: runMcpOffloadBench as unknown as Bench},
  mcp: {about: 'mcp proxy stdio wrap vs direct: added p50/p99 per tools/call (small and 20-field args), 100-tool tools/list ([calls])', run: runMcpBench as unknown as Bench},
}

function table(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n'
  const cols = Object.keys(rows[0] as object)
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 0)) : String(v))
  const body = rows.map((r) => cols.map((c) => cell(r[c])))
  const widths = cols.map((c, i) => Math.max(c.length, ...body.map((b) => (b[i] as string).length)))
  const line = (cells: string[]) => '| ' + cells.map((x, i) => x.padEnd(widths[i] as number)).join(' | ') + ' |'
  return [line(cols), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n') + '\n'
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2)
  const names = name === undefined ? Object.keys(BENCHES) : [name]
  for (const n of names) {
    const b = BENCHES[n]
    if (b === undefined) {
      process.stderr.write(`unknown benchmark ${JSON.stringify(n)}; available:\n${Object.entries(BENCHES).map(([k, v]) => `  ${k}  ${v.about}`).join('\n')}\n`)
      process.exitCode = 1
      return
    }
    process.stdout.write(`\n## ${n}\n\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n\n`)
    process.stdout.write(table(await b.run(args)))
  }
}

await main()
