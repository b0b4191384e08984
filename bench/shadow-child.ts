import {preferSmallHeap} from '../src/cli/small-heap.js'
import {createScannerReplay, loadShadowCandidate, renderShadowMarkdown, shadowReplay} from '../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../src/plugins/signing/index.js'
import {captureFiles} from './capture-files.js'

// Child process of the shadow benchmark: replays a capture directory against a compiled
// contract (as `learn shadow` does, without the receipt step) and reports its own throughput and
// peak RSS as one JSON line.

const [dir, contractFile] = process.argv.slice(2) as [string, string]
preferSmallHeap() // as `learn shadow` does
const l0 = process.hrtime.bigint()
// As `learn shadow` loads it: read rule by rule into the compact form (no decoded tree kept).
// The compile child signs with the seed sha256('bench'); the signature is verified as the command does.
const contractKey = Buffer.from(keyPairFromSeed(sha256('bench')).publicKey).toString('hex')
const contract = loadShadowCandidate({contract: contractFile, contractKey, allowUnsignedForDiagnostics: false, warn: () => {}})
const inputs = captureFiles(dir)
// The contract load is a fixed cost per contract: its peak is reported apart.
const loadPeakKiB = process.resourceUsage().maxRSS
const loadSeconds = Number(process.hrtime.bigint() - l0) / 1e9
const t0 = process.hrtime.bigint()
const c0 = process.cpuUsage()
// now = far after the corpus, duration = everything
const r = await shadowReplay(inputs, contract, createScannerReplay(), 4_000_000_000_000_000_000n, 4_000_000_000_000_000_000n)
const markdown = renderShadowMarkdown(r.analysis)
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(c0)
process.stdout.write(
  JSON.stringify({
    records: r.analysis.totalRecords,
    replayed: r.analysis.replayed,
    changed: r.analysis.changed,
    reportBytes: markdown.length,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
    loadPeakKiB,
    loadSeconds,
    rssAfterKiB: Math.round(process.memoryUsage().rss / 1024),
  }) + '\n',
)
