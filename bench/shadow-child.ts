import {preferSmallHeap, sizeHeapForReplay} from '../src/cli/v8-flags.js'
import {createScannerReplay, loadShadowCandidate, loadShadowCandidateInWorker, SCAN_WORKER_AFTER, renderShadowMarkdown, shadowReplay, type ShadowContract} from '../src/plugins/learn/index.js'
import {keyPairFromSeed, loadEd25519Arithmetic, sha256} from '../src/plugins/signing/index.js'
import {readFileSync} from 'node:fs'
import {captureFiles} from './capture-files.js'

/** CPU seconds of this (the main) thread alone, Linux only: the replay may scan on a worker thread. */
function mainThreadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / 100 // utime + stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined
  }
}

// Child process of the shadow benchmark: replays a capture directory against a compiled
// contract (as `learn shadow` does, without the receipt step) and reports its own throughput and
// peak RSS as one JSON line.

const [dir, contractFile, ...opts] = process.argv.slice(2) as [string, string, ...string[]]
// `--no-worker`, `--big-heap`, `--small-heap`: the arms the shadow bench compares against what
// `learn shadow` does (V8's default heap sizing throughout; `--optimize-for-size` throughout, as
// before issue 18).
if (!opts.includes('--big-heap')) preferSmallHeap() // as `learn shadow` does
const l0 = process.hrtime.bigint()
let c0 = process.cpuUsage()
let m0 = mainThreadCpuSeconds()
// As `learn shadow` loads it: read rule by rule into the compact form (no decoded tree kept), on
// a worker thread while the replay starts reading (`--no-overlap`: on this thread, first, as
// the command did before the worker). The compile child signs with the seed sha256('bench'); the signature
// is verified as the command does.
const contractKey = Buffer.from(keyPairFromSeed(sha256('bench')).publicKey).toString('hex')
const req = {contract: contractFile, contractKey, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}}
const overlap = !opts.includes('--no-overlap')
let loadSeconds = 0
let loadPeakKiB = 0
const loaded = (c: ShadowContract): ShadowContract => {
  if (!opts.includes('--big-heap') && !opts.includes('--small-heap')) sizeHeapForReplay() // as `learn shadow` does once the contract is loaded
  // The contract load is a fixed cost per contract: its peak is reported apart.
  loadPeakKiB = process.resourceUsage().maxRSS
  loadSeconds = Number(process.hrtime.bigint() - l0) / 1e9
  return c
}
// The worker loads the curve arithmetic itself; the load on this thread (`--no-overlap`) needs it here.
if (!overlap) await loadEd25519Arithmetic()
const contract = overlap ? loadShadowCandidateInWorker(req, () => loadShadowCandidate(req)).then(loaded) : loaded(loadShadowCandidate(req))
const inputs = captureFiles(dir)
// CPU and wall from here without the overlap (the load done, as before), from the load's start with it.
const t0 = overlap ? l0 : process.hrtime.bigint()
if (!overlap) {
  c0 = process.cpuUsage()
  m0 = mainThreadCpuSeconds()
}
// now = far after the corpus, duration = everything
// as `learn shadow` does: scans move to a worker thread past SCAN_WORKER_AFTER distinct URLs
const scanner = createScannerReplay(undefined, opts.includes('--no-worker') ? {} : {workerAfter: SCAN_WORKER_AFTER})
const r = await shadowReplay(inputs, contract, scanner, 4_000_000_000_000_000_000n, 4_000_000_000_000_000_000n)
const scans = scanner.scanned?.()
await scanner.close?.()
const markdown = renderShadowMarkdown(r.analysis)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(c0)
const m1 = mainThreadCpuSeconds()
process.stdout.write(
  JSON.stringify({
    records: r.analysis.totalRecords,
    replayed: r.analysis.replayed,
    changed: r.analysis.changed,
    reportBytes: markdown.length,
    // URLs scanned (the memo's and the batches' misses; deterministic for a corpus and build)
    scans,
    seconds,
    // with the overlapped load: from the start of the load to the end (the load is inside `seconds`)
    overlapped: overlap,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mainThreadCpuSeconds: m0 === undefined || m1 === undefined ? undefined : m1 - m0,
    maxRssKiB: process.resourceUsage().maxRSS,
    loadPeakKiB,
    loadSeconds,
    rssAfterKiB: Math.round(process.memoryUsage().rss / 1024),
  }) + '\n',
)
