import {closeSync, existsSync, fstatSync, lstatSync, readdirSync, readFileSync, readSync, statSync} from 'node:fs'
import path from 'node:path'
import {compareUtf8, copyString, JsonNumber, type JsonObject} from '../canonical/index.js'
import {capturedAgentsHint, compareCaptureFiles, cutLineText, decodeEntry, decodeSummary, discoverCaptureInputs, progressOverFiles, readCaptureInputs, SummaryDecodeError, skippedText, unreadableCaptureError, type CutLine, type SkippedCapture, type EntrySource, type RecorderEntry, type WriterCapture} from '../capture/index.js'
import {CONTRACT_KEY_PURPOSE, contractHash, contractProblem, readEnvelopeTail, streamContractEnvelopeFd, streamContractEnvelopeVerifyingFd, verifyCanonicalSignature, verifySignatureOver, type EnvelopeTail, type SignedEnvelope} from '../contracts/index.js'
import {compactContract, contractIndexBuilder, methodOverrides, type ContractIndexBuilder, type IndexedContract} from '../enforcement/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {encodeEvidenceReceipt, evidenceReceiptHash, RecorderEntryChain, signEvidence} from '../receipts/index.js'
import {agentPublicKeyPath, ed25519ArithmeticLoaded, EscrowError, loadEd25519Arithmetic, loadPublicKey, makeDirs, openSealedBox, readEscrowPrivateKey, sha256Hex, writeFileAtomic} from '../signing/index.js'
import {appendReceiptLines} from './candidate-commit.js'
import {checkOutputPath, decodeCandidate, openCandidate, readCandidateText} from './candidate-file.js'
import {deterministicKey, type LifecycleEnv} from './candidate-env.js'
import {givenKeyHint, keysBeforeParse, signerPublicKey} from './candidate-verify.js'
import {keystoreSigner, nowRfc3339} from './ratify-service.js'
import {ShadowAccumulator, type ShadowAnalysis} from './shadow-analyze.js'
import {loadShadowCandidateInWorker} from './shadow-contract-thread.js'
import {judgeEvent, unreplayableScan, urlRecord, type CapturedEvent} from './shadow-replay.js'
import {UrlMemo, type KnownUrl} from './shadow-url-memo.js'
import {renderShadowJson, renderShadowMarkdown, rfc3339} from './shadow-report.js'
import type {PayloadReplay, ScannerReplay, ScannerReplayResult, ToolPolicyReplay} from './shadow-scanner.js'
import {addOpportunity, findOpportunityMissing, OPPORTUNITY_WINDOW_NS, opportunityTable, OpportunityTableBuilder, type OpportunityFinding, type OpportunityObservation, type OpportunityTable} from './shadow-opportunity.js'

export interface ShadowRequest {
  contract: string
  /** An empty replay is a result, not a refusal (`--allow-empty`); else SHADOW_EMPTY, before any report is written. */
  allowEmpty?: boolean
  contractKey?: string
  allowUnsignedForDiagnostics: boolean
  /** A capture sessions root directory or a single capture `.jsonl` file. */
  sessions?: string
  agent?: string
  /** `learn.capture_dir` of the config (agent mode). */
  captureDir?: string
  durationNs: bigint
  out?: string
  outJson?: string
  recorderDir?: string
  /** 64 hex or a file holding them: opens the capture payload sidecars (§3.1 "Capture loading"). */
  escrowPrivateKey?: string
  /** Rescans decrypted `response`/`dlp` payloads (the candidate config's scanner); needed with `escrowPrivateKey`. */
  payloadReplay?: PayloadReplay
  keystore: string
  receiptKeyAgent: string
  env: LifecycleEnv
  scanner: ScannerReplay
  /** The candidate config's MCP tool policy (§3.2); tool_policy records are evidence-only without it. */
  toolPolicy?: ToolPolicyReplay
  /** Diagnostics for stderr (the unsigned-contract warning). */
  warn: (line: string) => void
  /** Called once the contract is loaded into its compact form, before the replay (the command sizes V8's heap here). */
  onContractLoaded?: () => void
  /** Progress: input bytes read of the total, events queued for replay. */
  onProgress?: (bytesRead: number, bytesTotal: number, events: number) => void
}

export interface ShadowResult {
  contract: string
  contractHash: string
  agent: string
  sessions: string
  out?: string
  outJson?: string
  recorderDir?: string
  /** The markdown report (printed to stdout when `out` is absent). */
  markdown: string
  report: ShadowAnalysis
  receiptsEmitted: number
  skipped: number
  /** Sentences for stderr (`WARNING: …`) and the --json result: a contract that judges nothing. */
  warnings: string[]
}

function shadowError(code: 'SHADOW_INPUT_INVALID' | 'CONTRACT_INVALID' | 'CONTRACT_SIGNATURE_INVALID' | 'KEY_INVALID', message: string): PipelockError {
  return new PipelockError(code, message)
}

/** What loading the contract to shadow reads of the request: the file, how to verify it, where warnings go. */
type ShadowContractLoad = Pick<ShadowRequest, 'contract' | 'contractKey' | 'allowUnsignedForDiagnostics' | 'keystore' | 'warn'>

/** §3.1 step 3–4: load, validate and (unless diagnostics) verify the candidate. */
export function loadShadowContract(req: ShadowContractLoad): SignedEnvelope {
  return decodeShadowContract(req, readCandidateText(req.contract))
}

function decodeShadowContract(req: ShadowContractLoad, text: string): SignedEnvelope {
  let env: SignedEnvelope
  try {
    env = decodeCandidate(text, req.contract)
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError('CONTRACT_INVALID', e.message.replace(/^learn: decode candidate envelope: /, 'learn shadow: decode contract: '), e.location ? {location: e.location} : {})
    throw e
  }
  const problem = contractProblem(env.body)
  if (problem !== undefined) throw shadowError('CONTRACT_INVALID', `learn shadow: validate contract: ${problem}`)
  checkShadowSignature(req, env.body, env.signature, (key) => verifyCanonicalSignature(env.body, env.signature, key))
  return env
}

/** §3.1 step 4 on a decoded, valid contract: key required unless diagnostics; purpose, form, then `verify`. */
function checkShadowSignature(req: ShadowContractLoad, body: JsonObject, signature: string, verify: (key: Uint8Array) => boolean): void {
  let key: Uint8Array
  let keyHint: string | undefined
  if (req.contractKey === undefined || req.contractKey === '') {
    if (req.allowUnsignedForDiagnostics) {
      req.warn('warning: unverified contract accepted because --allow-unsigned-contract-for-diagnostics is set; shadow replay is diagnostic only')
      return
    }
    // Without --contract-key the keystore public key of the contract's signer verifies it, as
    // ratify, forget, split and pin do (the reference refuses); still never unverified.
    const found = keystoreContractKey(req.keystore, body)
    if (typeof found === 'string') {
      throw new PipelockError('SHADOW_INPUT_INVALID', 'learn shadow: --contract-key is required for --contract (or use --allow-unsigned-contract-for-diagnostics)', {hint: found})
    }
    key = found.key
    keyHint = `checked with the keystore public key of signer_key_id ${JSON.stringify(found.signer)} (${found.path}); pass the compile public key with --contract-key to check against another`
  } else {
    try {
      key = loadPublicKey(req.contractKey).bytes
    } catch (e) {
      throw shadowError('KEY_INVALID', `learn shadow: load contract verification key: ${(e as Error).message}`)
    }
    const signer = body.get('signer_key_id')
    keyHint = givenKeyHint(req.contractKey, key, typeof signer === 'string' ? signer : '')
  }
  const purpose = body.get('key_purpose')
  if (purpose !== CONTRACT_KEY_PURPOSE) {
    throw shadowError('CONTRACT_SIGNATURE_INVALID', `learn shadow: verify contract: key_purpose ${JSON.stringify(purpose)} is not ${JSON.stringify(CONTRACT_KEY_PURPOSE)}`)
  }
  if (!/^ed25519:[0-9a-fA-F]{128}$/.test(signature)) throw shadowError('CONTRACT_SIGNATURE_INVALID', 'learn shadow: verify contract: signature must be ed25519: followed by 128 hex characters')
  if (!verify(key)) throw new PipelockError('CONTRACT_SIGNATURE_INVALID', 'learn shadow: verify contract: signature does not verify', keyHint === undefined ? {} : {hint: keyHint})
}

/** The keystore public key named by the contract's `signer_key_id` (as ratify finds it), or why there is none (a hint). */
function keystoreContractKey(keystore: string, body: JsonObject): {key: Uint8Array; signer: string; path: string} | string {
  const found = signerPublicKey(keystore, body)
  if ('key' in found) return {key: found.key, signer: found.signer, path: agentPublicKeyPath(keystore, found.signer)}
  if (found.signer === '') return 'the contract names no signer_key_id: pass the compile public key with --contract-key'
  return `the keystore holds no public key for the contract's signer_key_id ${JSON.stringify(found.signer)} (${found.error}): pass the compile public key with --contract-key, or --keystore DIR that holds it`
}

/**
 * §3.1 steps 3–4 straight into the replay's compact form (`ShadowContract`): the contract is
 * read rule by rule (contracts `streamContractEnvelope`), so its decoded tree never exists
 * whole. Where the streaming read declines (YAML outside our emitter's subset, any decode or
 * validation error), the ordinary load decides, with its own errors, and the compact form is
 * read from its tree. Both give the same contract, checks and messages.
 */
export function loadShadowCandidate(req: ShadowContractLoad): ShadowContract {
  return loadVerifyingAsRead(req) ?? loadWithSignedBytes(req)
}

/**
 * `loadShadowCandidate` with the signature checked as the rules pass (contracts
 * `streamContractEnvelopeVerifyingFd`): the key and the signature are known before the parse
 * (`--contract-key`, or the keystore key of the `signer_key_id` read from the file's tail, and
 * the tail's signature line), so the signed bytes are hashed as they are made and never held.
 * Undefined wherever that does not prove the contract signed (no key before the parse, a tail
 * that is not our emitter's, a streamed read that declines, a signature that does not verify, a
 * signer other than the tail's): `loadWithSignedBytes` then reads the file again and decides,
 * with its own errors, on an index of its own read.
 */
function loadVerifyingAsRead(req: ShadowContractLoad): ShadowContract | undefined {
  // Without the curve arithmetic (signing `loadEd25519Arithmetic`) nothing could be proven.
  if (!ed25519ArithmeticLoaded()) return undefined
  const opportunity = new OpportunityTableBuilder()
  const fd = openCandidate(req.contract)
  let read
  let early
  let index: ContractIndexBuilder
  try {
    early = keyBeforeParse(req, readEnvelopeTail(fd))
    if (early === undefined) return undefined
    // A candidate whose text names no enforce rule keeps no capture-only entries while it is
    // read (enforcement `contractIndexBuilder`); one written otherwise is read again below.
    index = contractIndexBuilder(fileHolds(fd, 'lifecycle_state: enforce') ? {} : {withoutCaptureOnly: true})
    read = streamContractEnvelopeVerifyingFd(fd, req.contract, (rule, position) => {
      index.add(rule, position)
      opportunity.add(rule)
    }, early.key, early.signature)
  } finally {
    closeSync(fd)
  }
  if (read === undefined || !read.verified || !index.complete()) return undefined
  // The key the check below resolves from the body must be the one the rules were checked by.
  if (early.signer !== undefined && read.body.get('signer_key_id') !== early.signer) return undefined
  const h = read.body.get('contract_hash')
  const hashed = typeof h === 'string' && h !== '' ? copyString(h) : read.sha256Hex === undefined ? undefined : 'sha256:' + read.sha256Hex
  if (hashed === undefined) return undefined
  const key = early.key
  checkShadowSignature(req, read.body, read.signature, (k) => Buffer.from(k).equals(key))
  return {contractHash: hashed, selectorId: selectorIdOf(read.body), evaluator: {contractHash: hashed, index: index.finish()}, opportunityRules: opportunity.finish()}
}

/** Whether the file at `fd` holds `text` (ASCII) anywhere: read 1 MiB at a time, from its first byte. */
function fileHolds(fd: number, text: string): boolean {
  const needle = Buffer.from(text, 'latin1')
  const size = fstatSync(fd).size
  const buf = Buffer.allocUnsafe(1 << 20)
  // Each read after the first starts with the last bytes of the one before, so a match cut by a
  // read boundary is found whole.
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, buf.length, at)
    if (n === 0) break
    if (buf.subarray(0, n).indexOf(needle) >= 0) return true
    if (at + n >= size) break
    at += n - (needle.length - 1)
  }
  return false
}

/** The key `checkShadowSignature` will take, found before the parse, and the tail's signature; undefined when either is unknown then. */
function keyBeforeParse(req: ShadowContractLoad, tail: EnvelopeTail): {key: Buffer; signature: string; signer?: string} | undefined {
  const pinned = req.contractKey !== undefined && req.contractKey !== ''
  // unverified diagnostics are not checked against any key (checkShadowSignature)
  if (req.allowUnsignedForDiagnostics && !pinned) return undefined
  // shadow trusts as ratify does, but never the deterministic test keys
  const found = keysBeforeParse({...(pinned ? {contractKey: req.contractKey} : {}), keystore: req.keystore, deterministic: false}, tail)
  const key = found?.keys[0]
  return found === undefined || key === undefined ? undefined : {key: Buffer.from(key), signature: found.signature, ...(found.signer === undefined ? {} : {signer: found.signer})}
}

/** `loadShadowCandidate` with the signed bytes assembled whole and checked at the end (node:crypto's Ed25519). */
function loadWithSignedBytes(req: ShadowContractLoad): ShadowContract {
  const index = contractIndexBuilder()
  const opportunity = new OpportunityTableBuilder()
  // Read from the file a chunk at a time: a 200,000-rule contract is 280 MB of YAML.
  const fd = openCandidate(req.contract)
  let streamed
  try {
    streamed = streamContractEnvelopeFd(fd, req.contract, (rule, position) => {
      index.add(rule, position)
      opportunity.add(rule)
    })
  } finally {
    closeSync(fd)
  }
  // Declined: the ordinary load reads the text and decides, with its own errors.
  if (streamed === undefined) return prepareShadowContract(decodeShadowContract(req, readCandidateText(req.contract)).body)
  checkShadowSignature(req, streamed.body, streamed.signature, (key) => verifySignatureOver(streamed.canonical, streamed.signature, key))
  const h = streamed.body.get('contract_hash')
  // reportContractHash: the body's own hash, else computed over canonical(body) with an empty
  // contract_hash — which, the field being empty, are the streamed bytes.
  const contractHash = typeof h === 'string' && h !== '' ? copyString(h) : 'sha256:' + sha256Hex(streamed.canonical)
  return {contractHash, selectorId: selectorIdOf(streamed.body), evaluator: {contractHash, index: index.finish()}, opportunityRules: opportunity.finish()}
}

function selectorIdOf(body: JsonObject): string {
  const sel = body.get('selector')
  return copyString(sel instanceof Map ? str(sel.get('selector_id')) : '')
}

function lstatOrUndefined(p: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(p)
  } catch {
    return undefined
  }
}

function jsonlFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .map((n) => path.join(dir, n))
    .filter((f) => lstatOrUndefined(f)?.isFile() === true)
    .sort(compareCaptureFiles)
}

/** §3.1 step 5: capture files to replay, in session-name then chain order. */
export function resolveShadowInputs(req: Pick<ShadowRequest, 'sessions' | 'agent' | 'captureDir'>): {files: string[]; label: string; skipped?: SkippedCapture[]} {
  if (req.sessions !== undefined && req.sessions !== '') {
    const p = req.sessions
    if (!path.isAbsolute(p)) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --sessions must be absolute, got ${JSON.stringify(p)}`)
    const st = lstatOrUndefined(p)
    if (st === undefined) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --sessions does not exist: ${p}`)
    if (st.isSymbolicLink()) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --sessions must not be a symlink: ${p}`)
    if (st.isFile()) {
      if (!p.endsWith('.jsonl')) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --sessions file must be a capture .jsonl file: ${p}`)
      return {files: [p], label: p}
    }
    if (!st.isDirectory()) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --sessions must be a directory or a .jsonl file: ${p}`)
    const files: string[] = []
    for (const name of readdirSync(p).sort(compareUtf8)) {
      if (name === 'capture-meta') continue // drop sentinels, not traffic
      const d = path.join(p, name)
      if (lstatOrUndefined(d)?.isDirectory() === true) files.push(...jsonlFiles(d))
    }
    return {files, label: p}
  }
  if (req.agent === undefined || req.agent.trim() === '') {
    throw shadowError('SHADOW_INPUT_INVALID', 'learn shadow: no capture to replay: give --sessions (a capture sessions directory or one capture .jsonl file), or --agent NAME to replay that agent\'s sessions under learn.capture_dir of the config')
  }
  const agent = req.agent.trim()
  if (agent === '.' || agent === '..' || agent.includes('/') || agent.includes('\\')) {
    throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --agent must be a single path segment, got ${JSON.stringify(req.agent)} (or give --sessions)`)
  }
  const root = req.captureDir ?? ''
  if (root === '') throw shadowError('SHADOW_INPUT_INVALID', 'learn shadow: learn.capture_dir is not set; give --sessions, or a config with learn.capture_dir (--config FILE, $PIPELOCK_CONFIG or $PIPELOCK_HOME/pipelock.yaml)')
  if (!path.isAbsolute(root)) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: learn.capture_dir must be absolute, got ${JSON.stringify(root)}`)
  // As learn compile discovers them (§2.6): a session whose first line cannot be read is left
  // out and named (`skipped`), one that names another agent is left out silently.
  const noSession = () => new PipelockError('CAPTURE_NO_INPUT', `learn shadow: no capture session of agent ${JSON.stringify(agent)} under ${root}`, {hint: capturedAgentsHint(root, '--sessions')})
  if (!existsSync(root)) throw noSession()
  const {files, skipped} = discoverCaptureInputs({root, agent})
  if (files.length === 0 && skipped.length > 0) throw unreadableCaptureError('learn shadow', agent, root, skipped)
  if (files.length === 0) throw noSession()
  return {files, label: root, skipped}
}

const ZERO_TIME_SECONDS = -62135596800 // Go's zero time, 0001-01-01T00:00:00Z

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

/** A recorder entry as a replayable capture event; undefined when it is not one (skipped). */
export function capturedEvent(e: RecorderEntry): CapturedEvent | undefined {
  if (e.type !== 'capture') return undefined
  try {
    decodeSummary(e.detail)
  } catch (err) {
    if (err instanceof SummaryDecodeError) return undefined
    throw err
  }
  const d = e.detail as Record<string, unknown>
  const r = (d.request ?? {}) as Record<string, unknown>
  // Read with the live gate's own reader, so a replayed request is judged on the same methods.
  const headers = r.headers as Record<string, string[]> | undefined
  const overrides = headers === undefined ? [] : methodOverrides(str(r.method), {headers})
  // Only this path sees findings: the writer's fast layout (`writerCapturedEvent`) has none.
  const kept = str(d.surface) === 'url' ? unreplayableScan(str(r.url), str(d.effective_action), d.effective_findings) : undefined
  return {
    surface: str(d.surface),
    method: str(r.method),
    url: str(r.url),
    ...(overrides.length > 0 ? {methodOverrides: overrides} : {}),
    toolName: str(r.tool_name),
    toolArgsJson: str(r.tool_args_json),
    mcpMethod: str(r.mcp_method),
    mcpServer: str(r.mcp_server),
    effectiveAction: str(d.effective_action),
    payloadRef: str(d.payload_ref),
    payloadSha256: str(d.payload_sha256),
    ...(kept === undefined ? {} : {keptScan: kept}),
    observedAtNs: e.epochSeconds <= ZERO_TIME_SECONDS ? undefined : BigInt(e.epochSeconds) * 1_000_000_000n + BigInt(e.nanos),
  }
}

/** A capture line read in the writer's layout as its replayable event (what `capturedEvent` gives for the same line). */
export function writerCapturedEvent(c: WriterCapture): CapturedEvent {
  return {
    surface: c.surface,
    method: c.method,
    url: c.url,
    toolName: c.toolName,
    toolArgsJson: c.toolArgsJson,
    mcpMethod: c.mcpMethod,
    mcpServer: c.mcpServer,
    effectiveAction: c.effectiveAction,
    payloadRef: c.payloadRef,
    payloadSha256: c.payloadSha256,
    observedAtNs: c.epochSeconds <= ZERO_TIME_SECONDS ? undefined : BigInt(c.epochSeconds) * 1_000_000_000n + BigInt(c.nanos),
  }
}

/** The contract hash reports use: `body.contract_hash`, else computed, else `sha256:unknown`. */
export function reportContractHash(body: JsonObject): string {
  const h = body.get('contract_hash')
  if (typeof h === 'string' && h !== '') return h
  try {
    return contractHash(body)
  } catch {
    return 'sha256:unknown'
  }
}

/**
 * What the replay keeps of the candidate contract. The decoded tree (a `Map` per YAML mapping,
 * ≈ 5 KB per rule) is not among it: everything here is read from the tree once, as copies, so
 * the tree and the contract text are garbage as soon as this is built (bench: shadow; 300k events
 * against an 18,643-rule contract must replay in < 256 MB).
 */
export interface ShadowContract {
  readonly contractHash: string
  /** `selector.selector_id` of the body ('' when absent), for the receipts. */
  readonly selectorId: string
  /** The evaluator's compact form of the contract (enforcement `compactContract`). */
  readonly evaluator: IndexedContract
  /** The rules' opportunity histories (shadow-opportunity.ts). */
  readonly opportunityRules: OpportunityTable
}

/** Reads what the replay needs from a verified contract body (see `ShadowContract`). */
export function prepareShadowContract(body: JsonObject): ShadowContract {
  const contractHash = copyString(reportContractHash(body))
  return {
    contractHash,
    selectorId: selectorIdOf(body),
    evaluator: compactContract({contractHash, body}),
    opportunityRules: opportunityTable(body),
  }
}

/**
 * Replays capture files against a loaded contract and analyses them (no I/O besides reading).
 * Streams: events are replayed a read chunk at a time and folded into the analysis, so memory
 * stays flat however long the capture is. The contract is read once, into its compact form
 * (`prepareShadowContract`; a body given here is prepared first).
 */
export async function shadowReplay(
  files: readonly string[],
  candidate: JsonObject | ShadowContract | Promise<ShadowContract>,
  scanner: ScannerReplay,
  nowNs: bigint,
  durationNs: bigint,
  toolPolicy?: ToolPolicyReplay,
  onProgress?: (bytesRead: number, events: number) => void,
  options: ShadowReplayOptions = {},
): Promise<{analysis: ShadowAnalysis; skipped: number; opportunity: OpportunityObservation}> {
  // A contract still loading (on another thread): capture files are read, decoded and their
  // URLs sent to the scanner meanwhile, up to BACKLOG_EVENTS records held unjudged; judging starts
  // once it is in, in capture order, so the analysis is the one a loaded contract gives.
  let loaded: ShadowContract | undefined = candidate instanceof Map ? prepareShadowContract(candidate) : candidate instanceof Promise ? undefined : candidate
  const loading = candidate instanceof Promise ? candidate.then((c) => void (loaded = c)) : undefined
  let loadFailed = false
  loading?.catch(() => void (loadFailed = true)) // awaited by `ready`; never an unhandled rejection meanwhile
  let contract = loaded?.evaluator as IndexedContract
  let acc = loaded === undefined ? (undefined as unknown as ShadowAccumulator) : new ShadowAccumulator(loaded.contractHash, nowNs)
  const backlog: Batch[] = []
  let backlogEvents = 0
  const ready = async (): Promise<void> => {
    if (acc !== undefined) return
    await loading
    contract = (loaded as ShadowContract).evaluator
    acc = new ShadowAccumulator((loaded as ShadowContract).contractHash, nowNs)
  }
  const opportunity: OpportunityObservation = {windows: new Set(), hostWindows: new Map()}
  let pending: CapturedEvent[] = []
  let skipped = 0
  let bytesRead = 0
  let queued = 0
  const scanMany = scanner.many ?? (async (urls: readonly string[]) => {
    const out: ScannerReplayResult[] = []
    for (const url of urls) out.push(await scanner(url))
    return out
  })
  // A batch (the events of the read chunks since the last, at least SCAN_BATCH_EVENTS) is
  // scanned while the next ones are read and decoded: the scans of the batch's URLs not yet known
  // are asked for at once (memo, or the scanner's worker thread), and its events judged in order
  // once they are in — the same order and results as one at a time. Batches are judged oldest
  // first as soon as their scans are in; while the oldest still waits for the worker the replay
  // reads on, up to IN_FLIGHT_EVENTS records, so neither thread waits on a burst of the other's
  // work (up to BACKLOG_EVENTS while the contract is still loading). A URL record whose URL is
  // known (`UrlMemo`) needs no scan, and one whose method and action are known too no evaluation.
  const urlMemo = new UrlMemo(options.urlMemoGeneration)
  type Batch = {events: CapturedEvent[]; known: (KnownUrl | undefined)[]; scans: Promise<readonly ScannerReplayResult[]>; scanned: boolean}
  const judge = async (b: Batch): Promise<void> => {
    const scans = await b.scans
    await ready()
    let k = 0
    const {events, known} = b
    for (let i = 0; i < events.length; i++) {
      const ev = events[i] as CapturedEvent
      // A kept scan is the record's own, never the URL's: judged without the scan or the memo.
      if (ev.surface !== 'url' || ev.keptScan !== undefined) {
        const r = judgeEvent(ev, contract, undefined, toolPolicy, options.payloadReplay)
        acc.add(r)
        addOpportunity(opportunity, r)
        continue
      }
      // Known when the batch was drained, or scanned for it (in the order asked).
      const u = known[i] ?? urlMemo.learn(ev.url, scans[k++] as ScannerReplayResult)
      const {outcome, ruleIds} = u.judge(ev, contract)
      const r = urlRecord(ev, outcome)
      acc.add(r, ruleIds)
      addOpportunity(opportunity, r, OPPORTUNITY_WINDOW_NS, u.host)
    }
  }
  const drain = async (last = false): Promise<void> => {
    // Several read chunks per batch: fewer messages to a scan worker.
    if (!last && pending.length < SCAN_BATCH_EVENTS) return
    if (pending.length > 0) {
      const urls: string[] = []
      // Held by the batch: the memo may drop an entry before the batch is judged.
      const known: (KnownUrl | undefined)[] = new Array(pending.length)
      for (let i = 0; i < pending.length; i++) {
        const ev = pending[i] as CapturedEvent
        if (ev.surface !== 'url' || ev.keptScan !== undefined) continue
        const u = urlMemo.get(ev.url)
        if (u === undefined) urls.push(ev.url)
        else known[i] = u
      }
      const batch: Batch = {events: pending, known, scans: NO_SCANS, scanned: urls.length === 0}
      if (urls.length > 0) {
        batch.scans = scanMany(urls)
        const scanned = (): void => void (batch.scanned = true)
        batch.scans.then(scanned, scanned) // a failure is thrown by `judge`
      }
      backlog.push(batch)
      backlogEvents += pending.length
      pending = []
    }
    if (last) return
    let yielded = false
    while (backlog.length > 0) {
      const oldest = backlog[0] as Batch
      const limit = loaded === undefined ? (options.backlogEvents ?? BACKLOG_EVENTS) : (options.inFlightEvents ?? IN_FLIGHT_EVENTS)
      if (!(loadFailed || backlogEvents > limit || (loaded !== undefined && oldest.scanned))) {
        if (yielded) return
        // One event-loop turn: lets the scan worker's answers (and the contract's) in.
        await new Promise(setImmediate)
        yielded = true
        continue
      }
      backlog.shift()
      backlogEvents -= oldest.events.length
      await judge(oldest)
    }
  }
  const take = (ev: CapturedEvent, source: EntrySource): void => {
    if (ev.observedAtNs !== undefined && ev.observedAtNs < nowNs - durationNs) return
    // §3.1: a payload surface's scanner input is its sidecar, when a key opens it.
    if (options.escrowSecretKey !== undefined && ev.payloadRef !== '' && ev.surface !== 'url' && ev.surface !== 'tool_policy') {
      ev.payload = openCaptureSidecar(source, ev.payloadRef, ev.payloadSha256, options.escrowSecretKey)
    }
    pending.push(ev)
    queued++
  }
  await readCaptureInputs(
    files.map((f) => ({name: f})),
    {
      onEntry: (e, source) => {
        if (e.type !== 'capture') return
        const ev = capturedEvent(e)
        if (ev === undefined) {
          skipped++
          return
        }
        take(ev, source)
      },
      // The writer's own lines without JSON.parse (the rest as above); `readWriterLayout: false` in tests.
      onCapture: options.readWriterLayout === false ? undefined : (c, source) => take(writerCapturedEvent(c), source),
      afterChunk: () => drain(),
      ...(options.onCutLine === undefined ? {} : {onCutLine: options.onCutLine}),
      // Small chunks: a batch's events wait for the replay across awaits, and a large batch of
      // them outlives the young generation, so its garbage would grow the old space (bench: shadow;
      // 512-record batches measured the same peak RSS as one 64 KiB chunk's ≈ 90).
      chunkSize: REPLAY_CHUNK_BYTES,
      onBytes: (n) => {
        bytesRead += n
        onProgress?.(bytesRead, queued)
      },
    },
  )
  await drain(true)
  for (const b of backlog) await judge(b)
  await ready() // no batch at all
  return {analysis: acc.finish(), skipped, opportunity}
}

/** Tuning of `shadowReplay` (tests use tiny memos to exercise their turnover). */
export interface ShadowReplayOptions {
  /** Generation size of the memo of known URLs (`UrlMemo`; default 131,072: 2 × that at most). */
  urlMemoGeneration?: number
  /** Records held unjudged, at most, while the contract is still loading (default 65,536). */
  backlogEvents?: number
  /** Records held unjudged, at most, while their scans run once the contract is in (default 4,096). */
  inFlightEvents?: number
  /** false: every line through JSON.parse (`decodeEntry`), the oracle of the writer-layout reader. */
  readWriterLayout?: boolean
  /** A file's last line cut short by a crash, left out (capture `ReadOptions.onCutLine`); without it such a line stops the replay. */
  onCutLine?: (cut: CutLine) => void
  /** `--escrow-private-key` (32 bytes): payload sidecars are opened and checked (`openCaptureSidecar`). */
  escrowSecretKey?: Uint8Array
  /** What rescans an opened payload (`response`, `dlp`); without it those records stay summary-only. */
  payloadReplay?: PayloadReplay
}

/**
 * learn-lifecycle §3.1 "Capture loading": `payload_ref` must be a bare relative file name (beside
 * the capture file that names it), the sealed box must open with the key, and the SHA-256 of the
 * plaintext must equal `payload_sha256`. Any failure aborts the whole replay: a replay that
 * silently fell back to summary-only for some records would report on evidence it did not read.
 */
export function openCaptureSidecar(source: EntrySource, ref: string, sha: string, secretKey: Uint8Array): Buffer {
  const fail = (why: string): never => {
    throw new PipelockError('SHADOW_INPUT_INVALID', `learn shadow: capture sidecar ${JSON.stringify(ref)}: ${why}`, {location: {file: source.file, line: source.line}})
  }
  if (ref === '.' || ref === '..' || ref.includes('/') || ref.includes('\\') || ref.includes('\0') || path.isAbsolute(ref)) fail('payload_ref must be a bare relative file name')
  let sealed: Buffer
  try {
    sealed = readFileSync(path.join(path.dirname(source.file), ref))
  } catch (e) {
    return fail(`cannot read: ${osErrorReason(e)}`)
  }
  let plain: Buffer
  try {
    plain = openSealedBox(sealed, secretKey)
  } catch (e) {
    if (e instanceof EscrowError) return fail(`${e.message}; check --escrow-private-key`)
    throw e
  }
  if (`sha256:${sha256Hex(plain)}` !== sha) fail(`SHA-256 of the decrypted payload does not match payload_sha256 ${JSON.stringify(sha)}`)
  return plain
}

const NO_SCANS: Promise<readonly ScannerReplayResult[]> = Promise.resolve([])

/**
 * Records read ahead, at most, while the contract is still loading (see `shadowReplay`): ≈ 1 s of
 * reading and decoding, ≈ 30 MB held. Half of what it was before the writer-layout reader: that
 * reader fills the read-ahead sooner, and the load's peak then stays within the 300k bound (bench: shadow).
 */
const BACKLOG_EVENTS = 65_536

/**
 * Records read ahead, at most, while the oldest batch's scans still run on the worker (see
 * `shadowReplay`): a few batches, so a burst of new URLs does not stop the reading, and short-lived
 * enough that the held events mostly die young.
 */
const IN_FLIGHT_EVENTS = 4096

/** Records per scan batch, at least (see `shadowReplay`). */
const SCAN_BATCH_EVENTS = 512

/** Capture bytes read per replay batch (see `shadowReplay`). */
const REPLAY_CHUNK_BYTES = 64 * 1024

/** Where the next shadow entries go: continue the chain of the highest existing proxy file. */
function openProxyRecorder(dir: string): {chain: RecorderEntryChain; file: string} {
  const sdir = path.join(dir, 'proxy')
  makeDirs(sdir, 0o750)
  let best: {n: bigint; name: string} | undefined
  for (const name of readdirSync(sdir)) {
    const m = /^evidence-proxy-(\d+)\.jsonl$/.exec(name)
    if (m === null) continue
    const n = BigInt(m[1] as string)
    if (best === undefined || n > best.n) best = {n, name}
  }
  if (best === undefined) return {chain: new RecorderEntryChain('proxy'), file: path.join(sdir, 'evidence-proxy-0.jsonl')}
  const file = path.join(sdir, best.name)
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '')
  const last = lines[lines.length - 1]
  if (last === undefined) return {chain: new RecorderEntryChain('proxy'), file}
  const e = decodeEntry(last)
  return {chain: new RecorderEntryChain('proxy', {seq: BigInt(e.seq) + 1n, prevHash: e.hash}), file}
}

function checkRecorderDir(dir: string): void {
  if (!path.isAbsolute(dir)) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --recorder-dir must be absolute, got ${JSON.stringify(dir)}`)
  const st = lstatOrUndefined(dir)
  if (st?.isSymbolicLink() === true) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --recorder-dir must not be a symlink: ${dir}`)
  if (st !== undefined && !st.isDirectory()) throw shadowError('SHADOW_INPUT_INVALID', `learn shadow: --recorder-dir must be a directory: ${dir}`)
}

/**
 * §3.5: one signed `shadow_delta` receipt per batch, then one `opportunity_missing` receipt per
 * finding (shadow-opportunity.ts), chained, as recorder entries of session `proxy`.
 */
function emitShadowReceipts(req: ShadowRequest, signer: ReceiptSigner, a: ShadowAnalysis, selectorId: string, missing: readonly OpportunityFinding[]): number {
  const dir = req.recorderDir as string
  makeDirs(dir, 0o750)
  const {chain, file} = openProxyRecorder(dir)
  const ts = nowRfc3339(req.env)
  let prevSeq = -1n
  let prevHash = 'genesis'
  const lines: string[] = []
  // One signed receipt per call, chained to the previous one and appended as a recorder entry.
  const emit = (kind: 'shadow_delta' | 'opportunity_missing', eventId: string, contractHash: string, payload: Record<string, unknown>, summary: string): void => {
    const receipt = signEvidence(
      {
        payloadKind: kind,
        eventId,
        timestamp: ts,
        principal: 'learn',
        actor: 'shadow',
        chainSeq: prevSeq + 1n,
        chainPrevHash: prevHash,
        // reference quirk kept (§3.5): the contract hash stands in for the manifest hash
        activeManifestHash: a.contractHash,
        contractHash,
        ...(selectorId === '' ? {} : {selectorId}),
        payload,
      },
      {keyPair: signer.keyPair, keyId: signer.keyId, purpose: 'receipt-signing'},
    )
    const link = nextLink(receipt)
    prevSeq = link.seq
    prevHash = link.hash
    lines.push(chain.next({ts, type: 'evidence_receipt', eventKind: kind, transport: 'shadow', summary, detailJson: encodeEvidenceReceipt(receipt)}).line)
  }
  a.batches.forEach((b, i) => {
    emit(
      'shadow_delta',
      req.env.newId(`shadow-delta-${i}`),
      b.contractHash,
      {
        contract_hash: b.contractHash,
        rule_id: b.ruleId,
        original_verdict: b.originalVerdict,
        candidate_verdict: b.candidateVerdict,
        aggregation: {
          window_start: rfc3339(b.windowStartNs),
          window_end: rfc3339(b.windowEndNs),
          lossless_count: new JsonNumber(String(b.losslessCount)),
          delta_sample_count: new JsonNumber(String(b.exemplarIds.length)),
          exemplar_ids: b.exemplarIds,
        },
      },
      `shadow_delta: ${b.ruleId} ${b.originalVerdict}->${b.candidateVerdict} x${b.losslessCount}`,
    )
  })
  missing.forEach((m, i) => {
    emit(
      'opportunity_missing',
      req.env.newId(`opportunity-missing-${i}`),
      a.contractHash,
      {
        contract_hash: a.contractHash,
        rule_id: m.ruleId,
        parent_context: m.parentContext,
        historical_opportunity_rate: m.historicalRate,
        current_opportunity_rate: m.currentRate,
        window: m.window,
      },
      `opportunity_missing: ${m.ruleId} ${m.parentContext} ${m.currentRate}<${m.historicalRate}`,
    )
  })
  if (lines.length > 0) {
    // Whole or not at all (appendReceiptLines): a cut line at the file's end is one this command's
    // next run, and the proxy resuming the chain, could not decode.
    try {
      appendReceiptLines(file, lines)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `learn shadow: appending receipts to ${file}: ${osErrorReason(e)}; nothing was written`)
    }
  }
  return lines.length
}

type ReceiptSigner = {keyPair: ReturnType<typeof deterministicKey>['keyPair']; keyId: string}

function loadReceiptSigner(req: ShadowRequest): ReceiptSigner {
  if (req.env.deterministic) return deterministicKey('shadowReceipt')
  try {
    return keystoreSigner(req.keystore, req.receiptKeyAgent)
  } catch (e) {
    if (e instanceof PipelockError) {
      throw new PipelockError(e.code, e.message.replace(/^load lifecycle signing key for/, 'load receipt signing key for'))
    }
    throw e
  }
}

export function nextLink(receipt: JsonObject): {seq: bigint; hash: string} {
  const seq = BigInt((receipt.get('chain_seq') as JsonNumber).text)
  return {seq, hash: evidenceReceiptHash(receipt)}
}

/**
 * The contract size from which `learn shadow` loads the contract on a worker thread: a 27k-rule
 * contract took 2–3 s to load, which the worker runs beside the replay's first reads; a contract
 * of a few hundred rules loads in milliseconds, far less than the worker's start.
 */
export const SHADOW_THREAD_LOAD_MIN_BYTES = 1024 * 1024

/**
 * Whether `learn shadow` loads the contract on its own thread: the diagnostic load, and a contract
 * under SHADOW_THREAD_LOAD_MIN_BYTES; a file it cannot stat goes to the worker, whose load names
 * the problem exactly as this thread's would.
 */
export function loadsContractHere(req: Pick<ShadowRequest, 'contract' | 'allowUnsignedForDiagnostics'>): boolean {
  if (req.allowUnsignedForDiagnostics) return true
  try {
    return statSync(req.contract).size < SHADOW_THREAD_LOAD_MIN_BYTES
  } catch {
    return false
  }
}

/**
 * `learn shadow` (§3.1): validate flags → load and verify the contract → resolve sessions →
 * replay and analyse → write reports → emit receipts. Report-write failure aborts before receipts.
 */
export async function runLearnShadow(req: ShadowRequest): Promise<ShadowResult> {
  if (req.durationNs <= 0n) throw shadowError('SHADOW_INPUT_INVALID', 'learn shadow: --duration must be positive')
  let escrowSecretKey: Buffer | undefined
  if (req.escrowPrivateKey !== undefined) {
    escrowSecretKey = readEscrowPrivateKey(req.escrowPrivateKey, 'learn shadow: --escrow-private-key')
  }
  const out = req.out === undefined ? undefined : checkOutputPath(req.out, 'learn shadow')
  const outJson = req.outJson === undefined ? undefined : checkOutputPath(req.outJson, 'learn shadow')
  if (out !== undefined && out === outJson) throw shadowError('SHADOW_INPUT_INVALID', 'learn shadow: --out and --out-json must be different files')
  if (req.recorderDir !== undefined) checkRecorderDir(req.recorderDir)
  // Only the compact form is kept: no decoded tree of the contract outlives this line.
  // A signed contract loads on a worker thread while the replay starts reading (bench: shadow); its
  // failure is the command's failure whatever else failed meanwhile, as when it loaded first.
  // (The diagnostic load may warn: it stays on this thread, first, as before.) A contract under
  // SHADOW_THREAD_LOAD_MIN_BYTES loads on this thread too: starting the worker (≈ 450 ms of CPU,
  // ≈ 400 ms before it answers, 2-core machine) cost more than such a load saves.
  const loading = loadsContractHere(req) ? (async () => (await loadEd25519Arithmetic(), loadShadowCandidate(req)))() : loadShadowCandidateInWorker(req, () => loadShadowCandidate(req))
  loading.catch(() => {}) // awaited below
  const contractFirst = async <T>(f: () => Promise<T>): Promise<T> => {
    try {
      return await f()
    } catch (e) {
      await loading
      throw e
    }
  }
  const contractP = loading.then((c) => {
    req.onContractLoaded?.()
    return c
  })
  contractP.catch(() => {}) // its failure is `loading`'s, thrown by `contractFirst`
  // The key that signs the receipts is loaded before anything is replayed or written: a missing
  // key found only when the replay changed a decision would leave the reports written and fail a
  // CI gate only on the first change.
  const signer = req.recorderDir === undefined ? undefined : await contractFirst(async () => loadReceiptSigner(req))
  const inputs = await contractFirst(async () => resolveShadowInputs(req))
  const nowNs = req.env.clock.nowNanos()
  const onProgress = req.onProgress === undefined ? undefined : progressOverFiles(inputs.files, req.onProgress)
  const cutLines: CutLine[] = []
  const {analysis, skipped, opportunity} = await contractFirst(() => shadowReplay(inputs.files, contractP, req.scanner, nowNs, req.durationNs, req.toolPolicy, onProgress, {
    onCutLine: (c) => cutLines.push(c),
    ...(escrowSecretKey === undefined ? {} : {escrowSecretKey}),
    ...(req.payloadReplay === undefined ? {} : {payloadReplay: req.payloadReplay}),
  }))
  const contract = await contractP
  const warnings = contract.evaluator.index.hasEnforceHttp || contract.evaluator.index.hasEnforceMcp ? [] : [unenforcedShadowWarning(analysis.contractHash)]
  for (const d of inputs.skipped ?? []) warnings.push(`learn shadow: skipped a damaged capture session (its records were not replayed): ${skippedText(d)}`)
  for (const c of cutLines) warnings.push(`learn shadow: ${cutLineText(c)}`)
  const missing = findOpportunityMissing(contract.opportunityRules, opportunity)
  // A CI gate must not pass on nothing: refused before a report or a receipt is written.
  if (analysis.totalRecords === 0 && req.allowEmpty === false) {
    throw new PipelockError('SHADOW_EMPTY', `learn shadow: replayed 0 records from ${inputs.label}`, {hint: 'check --sessions/--agent, or pass --allow-empty to accept an empty replay'})
  }
  const markdown = renderShadowMarkdown(analysis)
  try {
    if (out !== undefined) {
      checkOutputPath(out, 'learn shadow', true)
      writeFileAtomic(out, markdown, 0o600)
    }
    if (outJson !== undefined) {
      checkOutputPath(outJson, 'learn shadow', true)
      writeFileAtomic(outJson, renderShadowJson(analysis), 0o600)
    }
  } catch (e) {
    if (e instanceof PipelockError) throw e
    throw new PipelockError('WRITE_FAILED', `learn shadow: write report: ${(e as Error).message}`)
  }
  let receipts = 0
  if (signer !== undefined && (analysis.batches.length > 0 || missing.length > 0)) {
    receipts = emitShadowReceipts(req, signer, analysis, contract.selectorId, missing)
  }
  return {
    contract: req.contract,
    contractHash: analysis.contractHash,
    agent: req.sessions === undefined ? (req.agent ?? '') : '',
    sessions: inputs.label,
    ...(out === undefined ? {} : {out}),
    ...(outJson === undefined ? {} : {outJson}),
    ...(req.recorderDir === undefined ? {} : {recorderDir: req.recorderDir}),
    markdown,
    report: analysis,
    receiptsEmitted: receipts,
    skipped,
    warnings,
  }
}

/**
 * Only enforce rules judge a replayed request (§3.2 step 2), and compile writes every rule
 * capture_only: shadowing a fresh candidate reports no contract decision at all. Said on stderr,
 * since the report's bytes are the reference's and would read as "nothing would change".
 */
function unenforcedShadowWarning(contractHash: string): string {
  return `learn shadow: contract ${contractHash} has no rule in state enforce (learn compile writes every rule capture_only), so it judged no replayed request and this report shows no contract decision; ratify it (learn ratify) and shadow the ratified contract to see what enforcing it would block`
}
