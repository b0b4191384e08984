import os from 'node:os'
import {runBodyScanBench} from './body-scan.js'
import {runBodyStallBench} from './body-stall.js'
import {runCeeBench} from './cee.js'
import {runCompileBench} from './compile.js'
import {runConnectBench} from './connect.js'
import {runEmitBench} from './emit.js'
import {runEnvelopeBench} from './envelope.js'
import {runLearnLockBench} from './learn-lock.js'
import {runMcpBench} from './mcp.js'
import {runMcpEvidenceBench} from './mcp-evidence.js'
import {runProxyPeersBench} from './proxy-peers.js'
import {runRedactionBench} from './redaction.js'
import {runScaleBench} from './scale.js'
import {runScanApiBench} from './scan-api.js'
import {runShadowBench} from './shadow.js'
import {runStartupBench} from './startup.js'
import {runTlsInterceptBench} from './tls-intercept.js'
import {runTlsTunnelsBench} from './tls-tunnels.js'
import {runUrlScanBench} from './url-scan.js'
import {runVerifyBench} from './verify.js'
import {runWebSocketBench} from './websocket.js'

// `npm run bench -- <name> [options]`: runs one benchmark (or all with no name) and prints a
// results table; `npm run bench -- <name> --help` says what it measures and its options.
// Benchmarks report ratios and rates measured in one run, beside the peers or the direct path
// measured in the same run; they never assert. Results: docs/benchmarks.md.

type Bench = (args: string[]) => Promise<Record<string, unknown>[]>

const BENCHES: Record<string, {about: string; run: Bench}> = {
  proxy: {about: 'forward proxy vs squid, tinyproxy and a bare Node relay under wrk (Debian packages installed when missing): req/s, CPU µs/request (all threads and the main thread alone), added p50; the floor (a checking relay arm per config: the bare relay running exactly the checks that pipelock arm must run, with its config; the same checks timed in a loop beside it) beside the issue target as CPU per request, blocked when the target is below the floor (--body SIZE, --type html|binary, --preset NAME, --node-arms "A;B": this build once per node/V8 flag set); flags a >10% regression vs bench/proxy-last-run.json when one was recorded (--record stores this run, --baseline DIR adds another built checkout, --no-install)', run: runProxyPeersBench as unknown as Bench},
  'body-scan': {about: 'body and response scanning in process, MB/s on one core: text (HTML, JSON, a chat request, plain, Cyrillic plain, a few BIP-39 list words repeated, JSON records of identifiers, a chat request with a base64 image) and binary (random, gzip, PNG-like) bodies on the request-body and response paths, the old response path, a JavaScript byte loop and, for text bodies, the floor of the specified checks (the RE2 walks they require) in the same run, over --bodies N distinct bodies of each kind scanned in turn (--preset NAME, default balanced; --seed-phrase off: without the seed-phrase step; --size 64k; --bodies 8; --seconds S; --only KINDS, e.g. --only "JSON ids,chat image")', run: runBodyScanBench as unknown as Bench},
  'body-stall': {about: 'what large content costs other traffic: small GETs through the forward proxy, 5 ms apart, alone and while another client posts chat-completion bodies back to back (--load post) or reads a JavaScript-heavy page through /fetch again and again (--load fetch), or posts 2.7 KiB JSON bodies of 64 hex ids (--load ids); p50/p99/max of the small GETs, large bodies or pages/s and the proxy RSS, beside --baseline DIR (another built checkout) in the same rounds (--size 1m, --seconds 5, --rounds 2)', run: runBodyStallBench as unknown as Bench},
  connect: {about: 'CONNECT tunnel, 10 MiB HTTPS download: throughput vs direct, CPU per 10 MiB and per tunnel (1 KiB), squid and a bare relay in the same run (--rounds N, --warmup N tunnels, --baseline DIR)', run: runConnectBench as unknown as Bench},
  'tls-intercept': {about: 'TLS interception: leaf mint p50 and cache hit; added p50 per kept-alive request and per new tunnel vs direct, plain CONNECT and mitmdump (Debian mitmproxy, installed when missing) (--requests N, --tunnels N, --no-install)', run: runTlsInterceptBench as unknown as Bench},
  'tls-tunnels': {about: 'TLS interception: event-loop stall while 256 intercepted tunnels open at once, carry steady traffic and close: proxy loop lag max, /health probe latency from a worker (--tunnels N, --requests N, --baseline DIR, --turn-cpu: the proxy main thread\'s own stall with other processes\' share taken out, --cpu-prof DIR, --rounds N, --no-intercept: plain CONNECT tunnels)', run: runTlsTunnelsBench as unknown as Bench},
  websocket: {about: '/ws relay per message: 100-byte round trips direct vs through pipelock (relay only, scanning), burst ms and pipelock CPU per message ([--round-trips N] [--burst M])', run: runWebSocketBench as unknown as Bench},
  mcp: {about: 'mcp proxy stdio wrap vs direct: added p50/p99 per tools/call (small and 20-field args), 100-tool tools/list, RSS of the wrap over the bare server ([calls])', run: runMcpBench as unknown as Bench},
  'mcp-evidence': {about: 'mcp proxy stdio wrap with signed receipts + tool-call capture on vs off: throughput cost; contract gate per tools/call (200 rules, in process) ([calls])', run: runMcpEvidenceBench as unknown as Bench},
  verify: {about: 'write a signed receipt chain and verify it with the CLI, beside bare Ed25519 verifications on two threads and `openssl speed -seconds 3 -multi 2 ed25519` in the same run, with the ratio to each (--receipts N, --million)', run: runVerifyBench as unknown as Bench},
  compile: {about: 'generate 1,000,000-event corpora (realistic: 10,000 low-volume hosts; api: the earlier default) and compile each (events/s, peak RSS; --events N, --corpus realistic|api|simple, --keep DIR)', run: runCompileBench as unknown as Bench},
  shadow: {about: 'compile the same corpus, then replay it with learn shadow (events/s, peak RSS; --corpus realistic|api|simple, --events N, --keep DIR, --arms: also without the scan worker and without --optimize-for-size)', run: runShadowBench as unknown as Bench},
  'scan-api': {about: 'scan API (pipelock run, scan_api.listen): url scans/s over keep-alive HTTP at concurrency 1, 16 and 64, beside the URL scanner in process in the same run ([seconds])', run: runScanApiBench as unknown as Bench},
  envelope: {about: 'mediation envelope in process: build + sign per request (no body, 1 KiB digest) and verify, p50/p99 µs ([iterations])', run: runEnvelopeBench as unknown as Bench},
  redaction: {about: 'class-preserving redaction of a 64 KiB chat body, token classes and all 28 classes: p50/p90/p99 ms ([iterations])', run: runRedactionBench as unknown as Bench},
  'url-scan': {about: 'URL scan of a typical allowed URL: p50/p99 and per-stage breakdown ([iterations])', run: runUrlScanBench as unknown as Bench},
  cee: {about: 'cross-request detection overhead per request with 10,000 active keys, URLs of 256 B–2 KiB: URL scan with CEE on − off at p50/p99, admit alone, GC share ([iterations] [--sizes 256,1024,2048])', run: runCeeBench as unknown as Bench},
  'learn-lock': {about: 'contract gate cost with a 200-rule contract; /fetch throughput with capture / signed receipts on vs off; promote → enforced ([seconds])', run: runLearnLockBench as unknown as Bench},
  emit: {about: 'event emission at info to stalled webhook/OTLP/syslog sinks vs emission off: throughput and p99 ratios, RSS growth, drops ([seconds] [rounds])', run: runEmitBench as unknown as Bench},
  scale: {about: 'what size costs: pipelock run start-up (banner, CPU, RSS) with --profiles N agent profiles (default 300), without and with a DLP pattern each, beside the bench config alone; URL and 2 KiB chat-body scan CPU per call with 500 canary tokens, 100 env secrets, 1,000 DLP patterns and a 10,000-host allowlist, as ratios to the balanced preset in the same run (--rounds N, --seconds S)', run: runScaleBench as unknown as Bench},
  startup: {about: 'pipelock run start-up: spawn → banner → first request served, CPU and RSS; --version; node -e 0 in the same run; alternating with --baseline DIR (another built checkout); --profile DIR: self time by package up to the first request ([--rounds N])', run: runStartupBench as unknown as Bench},
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
  const list = (): string => Object.entries(BENCHES).map(([k, v]) => `  ${k}  ${v.about}`).join('\n')
  if (name === '--help' || name === '-h') {
    process.stdout.write(`usage: npm run bench -- [<name> [options]]\n\n${list()}\n`)
    return
  }
  const names = name === undefined ? Object.keys(BENCHES) : [name]
  for (const n of names) {
    const b = BENCHES[n]
    if (b === undefined) {
      process.stderr.write(`unknown benchmark ${JSON.stringify(n)}; available:\n${list()}\n`)
      process.exitCode = 1
      return
    }
    if (args.includes('--help') || args.includes('-h')) {
      process.stdout.write(`npm run bench -- ${n} [options]\n\n  ${b.about}\n`)
      continue
    }
    process.stdout.write(`\n## ${n}\n\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n\n`)
    process.stdout.write(table(await b.run(args)))
  }
}

await main()
