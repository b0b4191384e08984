import {existsSync, lstatSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {fixedClock, fromPlain, type Clock, type JsonObject} from '../canonical/index.js'
import {capturedAgentsHint, compareCaptureFiles, discoverCaptureInputs, unreadableCaptureError, globFiles, progressOverFiles, type CaptureInput, type CutLine, type SkippedCapture} from '../capture/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {keyPairFromSeed, loadAgentPrivateKey, lstatOutputPath, makeDirs, readFailureCode, refuseSpecialFile, sha256, type StreamedText, validateAgentName, writeFileAtomic} from '../signing/index.js'
import {provenanceOf, type BuildInfo} from './build-info.js'
import {compileContract, DEFAULT_CARDINALITY_CAP, DEFAULT_TAIL_PROMOTION_BLOCK_PCT, DEFAULT_WINDOW_SECONDS, resolveNormalization, type CompileConfig, type CompileResult, type CompileSigner} from './compile.js'
import {DETERMINISTIC_CLOCK, parseCompileFixture} from './fixture.js'
import {resolveFloors} from './inference.js'
import {learnConfigHash, loadLearnBlock} from './learn-config.js'

/** Paths must be absent or a regular file (never a symlink); parents are created 0750. */
function checkOutputPath(p: string, flag: string): void {
  if (!path.isAbsolute(p)) throw new PipelockError('PATH_NOT_ABSOLUTE', `${flag} must be an absolute path: ${p}`)
  const st = lstatOutputPath(p, flag)
  if (st === undefined) return
  if (st.isSymbolicLink()) throw new PipelockError('PATH_UNSAFE', `${flag} ${p} is a symlink; refusing to write through it`)
  if (!st.isFile()) throw new PipelockError('PATH_UNSAFE', `${flag} ${p} exists and is not a regular file`)
}

/**
 * Writes every output only after the whole compile succeeded: each file goes to a temp file in
 * its directory and is renamed into place, so a failure never leaves a partial contract.
 */
export function writeOutputs(outputs: readonly (readonly [string, string | StreamedText, string])[]): void {
  const seen = new Set<string>()
  for (const [p, , flag] of outputs) {
    checkOutputPath(p, flag)
    if (seen.has(p)) throw new PipelockError('USAGE', `output paths must be distinct: ${p} is used twice`)
    seen.add(p)
  }
  for (const [p] of outputs) makeDirs(path.dirname(p), 0o750)
  for (const [p, content] of outputs) {
    try {
      writeFileAtomic(p, content, 0o600)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `cannot write ${p}: ${(e as Error).message}`)
    }
  }
}

function inputFiles(pattern: string): string[] {
  if (statSync(pattern, {throwIfNoEntry: false})?.isDirectory() === true) {
    throw new PipelockError('CAPTURE_NO_INPUT', `learn compile: --input ${pattern} is a directory`, {hint: `give the capture files, as a quoted glob: --input "${path.join(pattern, '*', '*.jsonl')}" (a capture directory holds one directory per session), or --agent alone to read learn.capture_dir`})
  }
  const files = globFiles(pattern)
  if (files.length === 0) throw new PipelockError('CAPTURE_NO_INPUT', `no capture files match ${pattern}`)
  for (const f of files) {
    const st = lstatSync(f)
    if (st.isSymbolicLink() || !st.isFile()) throw new PipelockError('PATH_UNSAFE', `capture input ${f} is not a regular file (symlinks are refused)`)
  }
  return files.sort(compareCaptureFiles)
}

export interface FixtureCompileRequest {
  fixtureFile: string
  input: string
  outDir: string
  build: BuildInfo
  /** Used when the fixture is not deterministic. */
  clock: Clock
  /** See CompileOptions.compactHeap. */
  compactHeap?: () => void
}

export interface CompileSummary {
  events: number
  rules: number
  contractHash: string
  output: string
  review: string
  manifest: string
  inputs: string[]
  /** Session directories of the agent left out because their first capture file is damaged (§2.6). */
  skippedInputs: SkippedCapture[]
  /** Last lines of capture files cut short by a crash (no line break, not decodable), left out. */
  cutLines: CutLine[]
  eventsDropped: number
  signerKeyId: string
  agent: string
  noop: boolean
}

function summarize(r: CompileResult, agent: string, signerKeyId: string, files: string[], output: string, review: string, manifest: string, skippedInputs: SkippedCapture[] = [], cutLines: CutLine[] = []): CompileSummary {
  return {
    events: r.stats.eventsIngested,
    rules: r.stats.rules,
    contractHash: r.contractHash,
    output,
    review,
    manifest,
    inputs: files,
    skippedInputs,
    cutLines,
    eventsDropped: r.stats.dropped + r.stats.malformed,
    signerKeyId,
    agent,
    noop: r.stats.rules === 0,
  }
}

/** `learn compile --fixture F --input CORPUS --out-dir DIR` (learn-compile §19.4). */
export async function runFixtureCompile(req: FixtureCompileRequest): Promise<CompileSummary> {
  refuseSpecialFile(req.fixtureFile, 'fixture')
  let text: string
  try {
    text = readFileSync(req.fixtureFile, 'utf8')
  } catch (e) {
    throw new PipelockError(readFailureCode(e), `cannot read fixture: ${osErrorReason(e)}`, {location: {file: req.fixtureFile}})
  }
  const fx = parseCompileFixture(text, req.fixtureFile, provenanceOf(req.build, 'sha256:' + '0'.repeat(64)))
  const files = inputFiles(req.input)
  const inputs: CaptureInput[] = files.map((f) => ({name: f}))
  const result = await compileContract(inputs, fx.config, {
    clock: fx.clock === undefined ? req.clock : fixedClock(fx.clock),
    signer: fx.signer,
    moduleDigests: fx.moduleDigests ?? req.build.moduleDigests,
    ...(fx.inputRefs ? {inputRefs: fx.inputRefs} : {}),
    ...(req.compactHeap === undefined ? {} : {compactHeap: req.compactHeap}),
  })
  const outDir = path.resolve(req.outDir)
  const out = path.join(outDir, 'contract.yaml')
  const manifest = path.join(outDir, 'contract.manifest.json')
  const review = path.join(outDir, 'review.md')
  writeOutputs([
    [out, result.writeYaml, '--out-dir'],
    [manifest, result.manifestJson, '--out-dir'],
    [review, result.review, '--out-dir'],
  ])
  return summarize(result, fx.config.agent, fx.signer.keyId, files, out, review, manifest)
}

export interface LearnCompileRequest {
  agent: string
  /** Explicit glob (skips discovery and --since). */
  input?: string
  /** Discovery window in milliseconds. */
  sinceMs: number
  output?: string
  review?: string
  compileManifest?: string
  /** Config file and whether it was given explicitly (a missing default file means defaults). */
  configFile: string
  configExplicit: boolean
  escrowPrivateKey?: string
  deterministic: boolean
  acceptTail: boolean
  /** [ext, mcp.md §15.6.1] compile MCP tool-call captures into `mcp_tool_call` rules. */
  includeMcp?: boolean
  keystore: string
  compileKeyAgent?: string
  /** `PIPELOCK_HOME` or ~/.pipelock, for the default output path. */
  home: string
  clock: Clock
  build: BuildInfo
  /** Progress: input bytes read of the total, entries verified. */
  onProgress?: (bytesRead: number, bytesTotal: number, entries: number) => void
  /** See CompileOptions.compactHeap. */
  compactHeap?: () => void
}

/** SHA-256 of this phrase seeds the `--deterministic` signer (learn-compile §18.2). */
export const DETERMINISTIC_SIGNER_PHRASE = 'pipelock deterministic compile signer'
export const DETERMINISTIC_SIGNER_KEY_ID = 'deterministic-contract-compile'

function replaceExt(p: string, ext: string): string {
  const e = path.extname(p)
  return (e === '' ? p : p.slice(0, -e.length)) + ext
}

function validateAgentSegment(agent: string): void {
  if (agent === '' || agent === '.' || agent === '..' || agent.includes('/') || agent.includes('\\')) {
    throw new PipelockError('AGENT_NAME_INVALID', `--agent must be a single path segment, got ${JSON.stringify(agent)}`)
  }
}

/** `pipelock learn compile` (learn-compile §18.2). */
export async function runLearnCompile(req: LearnCompileRequest): Promise<CompileSummary> {
  validateAgentSegment(req.agent)
  // Accepted and validated, never used: compile ignores sidecars (§20 Q13).
  if (req.escrowPrivateKey !== undefined && !/^[0-9a-fA-F]{64}$/.test(req.escrowPrivateKey)) {
    throw new PipelockError('KEY_INVALID', '--escrow-private-key must be 64 hex characters')
  }
  const output = req.output ?? path.join(req.home, 'contracts', 'candidates', `${req.agent}.candidate.yaml`)
  const review = req.review ?? replaceExt(output, '.review.md')
  const manifest = req.compileManifest ?? replaceExt(output, '.manifest.json')
  for (const [p, flag] of [[output, '--output'], [review, '--review'], [manifest, '--compile-manifest']] as const) checkOutputPath(p, flag)
  if (new Set([output, review, manifest]).size !== 3) throw new PipelockError('USAGE', '--output, --review and --compile-manifest must be distinct paths')

  const learn = loadLearnBlock(req.configFile, req.configExplicit)
  const inf = learn.inference ?? {}
  const floors = resolveFloors(inf.floors)
  const norm = resolveNormalization(inf.normalization)
  const cap = inf.normalization?.cardinality_cap_per_host || DEFAULT_CARDINALITY_CAP
  const tailPct = inf.normalization?.tail_promotion_block_pct || DEFAULT_TAIL_PROMOTION_BLOCK_PCT

  let files: string[]
  let skipped: SkippedCapture[] = []
  if (req.input !== undefined) files = inputFiles(req.input)
  else {
    const root = learn.capture_dir ?? ''
    if (root === '') {
      // The default config may not exist: then say so, rather than name a file that was never read.
      if (!existsSync(req.configFile)) throw new PipelockError('CONFIG_INVALID', `no config file at ${req.configFile}, so learn.capture_dir is not set; give --input, or --config with learn.capture_dir`)
      throw new PipelockError('CONFIG_INVALID', 'learn.capture_dir is not set; give --input or set learn.capture_dir in the config', {location: {file: req.configFile}})
    }
    if (path.isAbsolute(root) && !existsSync(root)) {
      throw new PipelockError('CAPTURE_NO_INPUT', `learn compile: the capture directory ${root} (learn.capture_dir of ${req.configFile}) does not exist`, {
        hint: 'capture first (pipelock learn observe --config FILE), or, for captures written elsewhere (learn observe --capture-dir DIR), give --input "DIR/*/*.jsonl"',
      })
    }
    const nowMs = Number(req.clock.nowNanos() / 1_000_000n)
    let sessions: number
    ;({files, skipped, sessions} = discoverCaptureInputs({root, agent: req.agent, sinceEpochMs: nowMs - req.sinceMs}))
    if (files.length === 0 && skipped.length > 0) throw unreadableCaptureError('learn compile', req.agent, root, skipped)
    if (files.length === 0 && sessions === 0) {
      throw new PipelockError('CAPTURE_NO_INPUT', `no capture session of agent ${JSON.stringify(req.agent)} under ${root}`, {hint: capturedAgentsHint(root, `--input "DIR/*/*.jsonl"`)})
    }
    if (files.length === 0) {
      throw new PipelockError('CAPTURE_NO_INPUT', `no capture files for agent ${JSON.stringify(req.agent)} under ${root} in the --since window`, {
        hint: `its ${sessions === 1 ? 'session holds' : `${sessions} sessions hold`} no file modified since then: give a longer --since (a Go duration, such as 720h)`,
      })
    }
  }

  let signer: CompileSigner
  let clock = req.clock
  if (req.deterministic) {
    signer = {keyPair: keyPairFromSeed(sha256(DETERMINISTIC_SIGNER_PHRASE)), keyId: DETERMINISTIC_SIGNER_KEY_ID}
    clock = fixedClock(DETERMINISTIC_CLOCK)
  } else {
    const name = req.compileKeyAgent ?? req.agent
    validateAgentName(name)
    signer = {keyPair: loadAgentPrivateKey(req.keystore, name).keyPair, keyId: name}
  }

  const resolved = {
    agent: req.agent,
    floors,
    normalization: {
      algorithm: 'frequency_weighted_entropy_v1',
      min_events: norm.minEvents,
      min_distinct_values: norm.minDistinctValues,
      entropy_threshold_bits: String(norm.entropyThresholdBits),
      reserved_segments_extra: [...norm.reservedSegmentsExtra],
      cardinality_cap_per_host: cap,
      tail_promotion_block_pct: String(tailPct),
    },
    accept_tail: req.acceptTail,
    window_seconds: DEFAULT_WINDOW_SECONDS,
  }
  const settings = fromPlain({
    confidence: {min_events: floors.min_events, min_sessions: floors.min_sessions, min_windows: floors.min_windows},
    normalization: {algorithm: 'frequency_weighted_entropy_v1'},
    privacy: {default_data_class: 'internal', forbid_classes: ['regulated']},
  }) as JsonObject
  const config: CompileConfig = {
    agent: req.agent,
    floors,
    normalization: {
      min_events: norm.minEvents,
      min_distinct_values: norm.minDistinctValues,
      entropy_threshold_bits: norm.entropyThresholdBits,
      reserved_segments_extra: norm.reservedSegmentsExtra,
    },
    cardinalityCapPerHost: cap,
    tailPromotionBlockPct: tailPct,
    acceptTail: req.acceptTail,
    includeMcp: req.includeMcp === true,
    windowSeconds: DEFAULT_WINDOW_SECONDS,
    compileConfigHash: learnConfigHash(resolved),
    pipelockVersion: req.build.version,
    pipelockBuildSha: req.build.buildSha,
    goVersion: req.build.runtime,
    moduleDigestRoot: req.build.moduleDigestRoot,
    settings,
  }
  const cutLines: CutLine[] = []
  const result = await compileContract(
    files.map((f) => ({name: f})),
    config,
    {
      clock,
      signer,
      moduleDigests: req.build.moduleDigests,
      ...(req.onProgress === undefined ? {} : {onProgress: progressOverFiles(files, req.onProgress)}),
      ...(req.compactHeap === undefined ? {} : {compactHeap: req.compactHeap}),
      onCutLine: (c) => cutLines.push(c),
    },
  )
  writeOutputs([
    [output, result.writeYaml, '--output'],
    [review, result.review, '--review'],
    [manifest, result.manifestJson, '--compile-manifest'],
  ])
  return summarize(result, req.agent, signer.keyId, files, output, review, manifest, skipped, cutLines)
}

/** The §18.2 stderr audit line (compact JSON, omit-empty except `event` and `noop`). */
export function compileAuditLine(s: CompileSummary, since: string): string {
  const o: Record<string, unknown> = {event: 'learn_compile'}
  const put = (k: string, v: unknown): void => {
    if (v === undefined || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) return
    o[k] = v
  }
  put('agent', s.agent)
  put('signer_key_id', s.signerKeyId)
  put('since', since)
  put('inputs', s.inputs)
  put('output', s.output)
  put('review', s.review)
  put('manifest', s.manifest)
  put('events_ingested', s.events)
  put('events_dropped', s.eventsDropped)
  put('rules_emitted', s.rules)
  put('cross_agent_signing', s.agent !== s.signerKeyId)
  o.noop = s.noop
  return JSON.stringify(o)
}
