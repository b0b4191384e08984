import {spawn} from 'node:child_process'
import {createWriteStream, mkdtempSync, rmSync, statSync} from 'node:fs'
import {loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {fileURLToPath} from 'node:url'
import {ReceiptChainBuilder, RecorderEntryChain} from '../src/plugins/receipts/index.js'
import {keyPairFromSeed} from '../src/plugins/signing/index.js'
import {formatGoTime, fromEpochNanos} from '../src/plugins/canonical/index.js'
import {bareEd25519Rate, opensslEd25519CpuRate, opensslEd25519Rate} from './ed25519-limit.js'

// `npm run bench -- verify [--receipts N] [--million]`: writes a signed flight-recorder chain of
// N receipts to a temp dir, then verifies it end to end with the built CLI (a fresh process,
// as an auditor runs it) and reports receipts/s and the verifier's peak RSS. Beside it, in the
// same run: bare node:crypto Ed25519 verifications/s on one and on two threads (the physical
// limit of any verifier here: every receipt costs one verification), the ratio of receipts/s to
// the two-thread limit, and the verifier's CPU per receipt beyond its one verification; then
// `openssl speed -seconds 3 -multi 2 ed25519` (OpenSSL's own figure on both cores, the limit
// issue 36 reads) and the ratio of receipts/s to it, with the load average around the run.
// Wall-clock rates on a shared machine follow its load (the verifier's three threads and
// openssl's two processes are scheduled differently); the per-CPU-second figures do not: the
// verifier's receipts per CPU second (all threads, start-up included), bare node:crypto's
// verifications per CPU second, and OpenSSL's (`openssl speed -seconds 3 ed25519` in one
// process divides by its user CPU time), with the ratios between them.

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface VerifyBenchRow {
  receipts: number
  fileMiB: number
  writeSeconds: number
  verifySeconds: number
  receiptsPerSecond: number
  peakRssMiB: number
  valid: boolean
  /** User + system CPU of the verifying process per receipt (all threads), in µs. */
  cpuMicrosPerReceipt: number
  /** Bare Ed25519 verifications/s on 2 threads, measured right after the CLI run. */
  ed25519TwoThreadsPerSecond: number
  /** CPU time of one bare verification (2 threads running), in µs. */
  ed25519CpuMicros: number
  /** receipts/s ÷ bare verifications/s on 2 threads: 1.0 is the physical limit. */
  ratioToEd25519Limit: number
  /** `openssl speed -seconds 3 -multi 2 ed25519`'s verify/s, right after (undefined without openssl). */
  opensslVerifyPerSecond?: number
  /** receipts/s ÷ openssl's verify/s on 2 processes: the target is ≥ 0.9. */
  ratioToOpenssl?: number
  /** Load average (1 min) when the CLI run started and when openssl finished. */
  loadAverage: [number, number]
  /** Receipts per CPU second of the verifying process (1e6 ÷ cpuMicrosPerReceipt). */
  receiptsPerCpuSecond: number
  /** Bare node:crypto verifications per CPU second (1e6 ÷ ed25519CpuMicros). */
  ed25519PerCpuSecond: number
  /** OpenSSL's verifications per user CPU second (`openssl speed -seconds 3 ed25519`, one process). */
  opensslVerifyPerCpuSecond?: number
  /** receiptsPerCpuSecond ÷ opensslVerifyPerCpuSecond: the ratio, per CPU second. */
  ratioPerCpuToOpenssl?: number
  /** ed25519PerCpuSecond ÷ opensslVerifyPerCpuSecond: the most any verifier on node:crypto can reach. */
  ed25519RatioPerCpuToOpenssl?: number
  /** cpuMicrosPerReceipt − ed25519CpuMicros: parsing, hashing, chaining, threads, start-up. */
  nonSignatureCpuMicros: number
  /** With `--baseline DIR`: the same file verified by the build in DIR (another checkout), in the same run. */
  baselineReceiptsPerSecond?: number
  baselinePeakRssMiB?: number
  /** The baseline's receipts per CPU second. */
  baselineReceiptsPerCpuSecond?: number
  /** receipts/s of this build ÷ the baseline's. */
  ratioToBaseline?: number
}

export async function writeChain(file: string, n: number): Promise<number> {
  const key = keyPairFromSeed(createHash('sha256').update('pipelock-bench-verify-key').digest())
  const builder = new ReceiptChainBuilder(key)
  const entries = new RecorderEntryChain('proxy')
  const out = createWriteStream(file)
  const t0 = process.hrtime.bigint()
  const base = 1_776_254_400_000_000_000n // 2026-04-15T12:00:00Z
  let pending = ''
  for (let i = 0; i < n; i++) {
    const ts = formatGoTime(fromEpochNanos(base + BigInt(i) * 1_000_123n))
    const receipt = builder.append({
      action_id: `bench-${i}`,
      action_type: i % 3 === 0 ? 'write' : 'read',
      timestamp: ts,
      principal: 'org:bench',
      actor: 'agent:bench',
      target: `https://api.example.com/v1/items/${i % 97}?page=${i % 13}`,
      side_effect_class: i % 3 === 0 ? 'external_write' : 'external_read',
      reversibility: i % 3 === 0 ? 'compensatable' : 'full',
      policy_hash: 'sha256:' + 'ab'.repeat(32),
      verdict: i % 17 === 0 ? 'block' : 'allow',
      transport: 'forward',
      method: i % 3 === 0 ? 'POST' : 'GET',
    })
    pending += entries.receiptEntry(receipt, ts).line + '\n'
    if (pending.length > 1 << 20) {
      if (!out.write(pending)) await new Promise<void>((r) => out.once('drain', () => r()))
      pending = ''
    }
  }
  out.write(pending)
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  void key
  return Number(process.hrtime.bigint() - t0) / 1e9
}

// The child reports its own peak RSS on exit (KiB on Linux) through a marker line on stderr.
const RSS_HOOK =
  'data:text/javascript,process.on("exit",()=>{const u=process.resourceUsage();process.stderr.write("\\nBENCH_MAXRSS_KIB="+u.maxRSS+" BENCH_CPU_US="+(u.userCPUTime+u.systemCPUTime)+"\\n")})'

async function verifyWithCli(file: string, key: string, root = repoRoot): Promise<{seconds: number; rssKiB: number; cpuMicros: number; valid: boolean; stdout: string}> {
  const t0 = process.hrtime.bigint()
  const child = spawn(process.execPath, ['--import', RSS_HOOK, path.join(root, 'bin', 'run.js'), 'verify-receipt', file, '--key', key, '--json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  const code: number = await new Promise((r) => child.on('close', (c) => r(c ?? 1)))
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  const m = /BENCH_MAXRSS_KIB=(\d+) BENCH_CPU_US=(\d+)/.exec(stderr)
  return {seconds, rssKiB: m ? Number(m[1]) : NaN, cpuMicros: m ? Number(m[2]) : NaN, valid: code === 0, stdout}
}

export async function runVerifyBench(args: string[] = []): Promise<VerifyBenchRow[]> {
  const sizes: number[] = []
  const i = args.indexOf('--receipts')
  sizes.push(i >= 0 ? Number(args[i + 1]) : 100_000)
  if (args.includes('--million')) sizes.push(1_000_000)
  const b = args.indexOf('--baseline')
  const baseline = b >= 0 ? path.resolve(args[b + 1] as string) : undefined
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-bench-verify-'))
  const rows: VerifyBenchRow[] = []
  try {
    const key = keyPairFromSeed(createHash('sha256').update('pipelock-bench-verify-key').digest()).publicKey.toString('hex')
    for (const n of sizes) {
      const file = path.join(dir, `chain-${n}.jsonl`)
      process.stderr.write(`verify bench: writing ${n} signed receipts…\n`)
      const writeSeconds = await writeChain(file, n)
      process.stderr.write(`verify bench: verifying with the CLI…\n`)
      const load0 = loadavg()[0] as number
      const v = await verifyWithCli(file, key)
      process.stderr.write(`verify bench: bare Ed25519 verifications on 2 threads…\n`)
      const limit = await bareEd25519Rate(2)
      process.stderr.write(`verify bench: openssl speed -seconds 3 -multi 2 ed25519…\n`)
      const openssl = opensslEd25519Rate(3, 2)
      process.stderr.write(`verify bench: openssl speed -seconds 3 ed25519 (one process, per CPU second)…\n`)
      const opensslCpu = opensslEd25519CpuRate(3)
      const cpuMicrosPerReceipt = v.cpuMicros / n
      const receiptsPerCpuSecond = 1e6 / cpuMicrosPerReceipt
      const ed25519PerCpuSecond = 1e6 / limit.cpuMicrosPerVerification
      const row: VerifyBenchRow = {
        receipts: n,
        fileMiB: statSync(file).size / 2 ** 20,
        writeSeconds,
        verifySeconds: v.seconds,
        receiptsPerSecond: n / v.seconds,
        peakRssMiB: v.rssKiB / 1024,
        valid: v.valid,
        cpuMicrosPerReceipt,
        ed25519TwoThreadsPerSecond: limit.verificationsPerSecond,
        ed25519CpuMicros: limit.cpuMicrosPerVerification,
        ratioToEd25519Limit: n / v.seconds / limit.verificationsPerSecond,
        nonSignatureCpuMicros: cpuMicrosPerReceipt - limit.cpuMicrosPerVerification,
        receiptsPerCpuSecond,
        ed25519PerCpuSecond,
        ...(opensslCpu === undefined
          ? {}
          : {
              opensslVerifyPerCpuSecond: opensslCpu.verificationsPerCpuSecond,
              ratioPerCpuToOpenssl: receiptsPerCpuSecond / opensslCpu.verificationsPerCpuSecond,
              ed25519RatioPerCpuToOpenssl: ed25519PerCpuSecond / opensslCpu.verificationsPerCpuSecond,
            }),
        ...(openssl === undefined ? {} : {opensslVerifyPerSecond: openssl.verificationsPerSecond, ratioToOpenssl: n / v.seconds / openssl.verificationsPerSecond}),
        loadAverage: [load0, loadavg()[0] as number],
      }
      process.stderr.write(
        `verify (${n}): ${Math.round(row.receiptsPerSecond)} receipts/s; openssl speed ed25519 on 2 processes: ` +
          (openssl === undefined ? 'not measured (no openssl)' : `${Math.round(openssl.verificationsPerSecond)} verify/s, ratio ${row.ratioToOpenssl?.toFixed(2)} (${openssl.version})`) +
          `; node:crypto on 2 threads: ${Math.round(limit.verificationsPerSecond)}/s, ratio ${row.ratioToEd25519Limit.toFixed(2)}; load ${row.loadAverage.map((x) => x.toFixed(2)).join(' → ')}\n` +
          `verify (${n}) per CPU second: ${Math.round(receiptsPerCpuSecond)} receipts; bare node:crypto ${Math.round(ed25519PerCpuSecond)} verifications; ` +
          (opensslCpu === undefined
            ? 'openssl not measured\n'
            : `openssl ${Math.round(opensslCpu.verificationsPerCpuSecond)} verifications; ratio ${row.ratioPerCpuToOpenssl?.toFixed(2)} (node:crypto's own ${row.ed25519RatioPerCpuToOpenssl?.toFixed(2)})\n`),
      )
      if (baseline !== undefined) {
        process.stderr.write(`verify bench: verifying with the baseline build in ${baseline}…\n`)
        const bv = await verifyWithCli(file, key, baseline)
        row.baselineReceiptsPerSecond = n / bv.seconds
        row.baselinePeakRssMiB = bv.rssKiB / 1024
        row.baselineReceiptsPerCpuSecond = n / (bv.cpuMicros / 1e6)
        row.ratioToBaseline = row.receiptsPerSecond / row.baselineReceiptsPerSecond
      }
      rows.push(row)
      rmSync(file)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return rows
}
