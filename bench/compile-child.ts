import {closeSync, openSync, writeSync} from 'node:fs'
import {devNull} from 'node:os'
import {compactHeapNow, sizeCompileHeap} from '../src/cli/v8-flags.js'
import {fixedClock} from '../src/plugins/canonical/index.js'
import {buildInfoUnavailableDigests} from '../src/plugins/contracts/index.js'
import {compileContract} from '../src/plugins/learn/index.js'
import {keyPairFromSeed, sha256} from '../src/plugins/signing/index.js'
import {captureFiles} from './capture-files.js'

// Child process of the compile benchmark: compiles a capture directory and reports its own
// throughput and peak RSS as one JSON line (so the corpus generation does not count).

// The heap sizing and compaction `learn compile` applies (the child stands for the command).
sizeCompileHeap(process.execArgv, process.env.NODE_OPTIONS)
const [dir, agent, contractOut] = process.argv.slice(2) as [string, string, string | undefined]
const inputs = captureFiles(dir).map((f) => ({name: f}))
const t0 = process.hrtime.bigint()
const c0 = process.cpuUsage()
const r = await compileContract(
  inputs,
  {agent, floors: {}, compileConfigHash: 'sha256:bench', pipelockVersion: 'bench', pipelockBuildSha: 'bench', goVersion: 'bench', moduleDigestRoot: 'sha256:bench'},
  {clock: fixedClock('2026-04-29T22:00:00Z'), signer: {keyPair: keyPairFromSeed(sha256('bench')), keyId: 'bench'}, moduleDigests: buildInfoUnavailableDigests(), compactHeap: () => void compactHeapNow(process.execArgv, process.env.NODE_OPTIONS)},
)
// The YAML is part of the compile: streamed, as `learn compile` writes it (never held whole),
// to the contract file or to the null device.
const fd = openSync(contractOut ?? devNull, 'w')
try {
  r.writeYaml((chunk) => writeSync(fd, chunk))
} finally {
  closeSync(fd)
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(c0)
const cpuSeconds = (cpu.user + cpu.system) / 1e6
const pathRules = r.aggregate.rules.filter((x) => x.path !== undefined && x.method === undefined).length
process.stdout.write(
  JSON.stringify({files: inputs.length, entries: r.stats.entriesRead, events: r.stats.eventsIngested, rules: r.stats.rules, pathRules, seconds, cpuSeconds, maxRssKiB: process.resourceUsage().maxRSS}) + '\n',
)
