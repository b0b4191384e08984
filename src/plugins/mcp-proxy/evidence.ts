/**
 * What `mcp proxy` adds around the firewall when the config asks for it (mcp.md §15.3–§15.6):
 * the live contract step (learn_lock, with the store watch so a promote applies mid-wrap), the
 * signed receipt chain (flight_recorder) and tool-call capture (`--capture-output`). The receipt
 * and capture sinks are the proxy's (`ReceiptSink`, `openCaptureSink`), the same classes that
 * record `pipelock run`'s requests; this file only opens them, starts the upstream gate, and
 * closes them.
 */
import path from 'node:path'
import {resolveSalt} from '../capture/index.js'
import {systemClock} from '../canonical/index.js'
import {configHash, type PipelockConfig} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import type {FileFindingReceipt} from '../filesentry/index.js'
import {ContractRuntime, watchStore, type StoreWatch} from '../gate/index.js'
import type {DecisionSink} from '../decision/index.js'
import type {McpContractGate} from '../mcp/index.js'
import {airlockEvidenceOf, openCaptureSink, openRecorder, ReceiptSink, type AirlockChange, type CaptureSink} from '../proxy/index.js'
import {classifyMcp} from '../recorder/index.js'
import type {Scanner} from '../scanner/index.js'
import {mcpContractGate} from './contract-gate.js'

export interface McpEvidenceOptions {
  readonly config: PipelockConfig
  readonly scanner: Scanner
  /** Contract agent (§1.2). */
  readonly agent: string
  /** Server identity (§1.2). */
  readonly server: string
  readonly upstream?: string
  readonly captureDir?: string
  readonly captureRaw?: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  readonly build: {readonly version: string; readonly sha: string}
  readonly log: (line: string) => void
}


export interface McpEvidence {
  readonly contract: McpContractGate | null
  readonly recorders: readonly DecisionSink[]
  /** Writes a file sentry finding's receipt (absent without signed receipts). */
  readonly fileFinding?: (f: FileFindingReceipt) => void
  /** Signs an airlock tier change of a session, as `pipelock run` does (absent without signed receipts). */
  readonly airlock?: (c: AirlockChange) => void
  close(): Promise<void>
}

/** Invocation number of this process's wrap (§1.2 `<n>`): one wrap per `mcp proxy` process. */
const INVOCATION = 1

export async function openMcpEvidence(o: McpEvidenceOptions): Promise<McpEvidence> {
  const c = o.config
  const hash = configHash(c)
  const ll = c.learn_lock
  // §2.3: the contract loader is built at start; an init error refuses start-up (fail closed).
  const runtime = ll.enabled ? ContractRuntime.open(ll, systemClock) : null
  const contract = runtime === null ? null : mcpContractGate({runtime, agent: o.agent, server: o.server, unlocked: () => ll.unlocked_agents, ...(o.upstream !== undefined ? {upstream: o.upstream} : {})})
  if (runtime !== null) {
    const s = runtime.status()
    o.log(`pipelock: learn_lock: mode=${s.mode} store=${s.storeDir} ${s.generation === 0n ? 'no contract promoted yet' : `generation=${s.generation} manifest=${s.manifestHash}`} (server "${o.server}", agent "${o.agent}")`)
    const up = contract?.upstream()
    if (up?.block != null) throw new PipelockError('CONTRACT_UPSTREAM_DENIED', `contract upstream denied: ${up.block.reason}`)
  }
  let watch: StoreWatch | undefined
  if (runtime !== null) {
    watch = watchStore({
      storeDir: runtime.settings.store_dir,
      reload: () => {
        const before = runtime.status()
        const r = runtime.reload()
        const after = runtime.status()
        if (r.error !== undefined) o.log(`pipelock: learn_lock: store reload failed (generation ${after.generation} stays in force): ${r.error}`)
        else if (after.manifestHash !== before.manifestHash) o.log(`pipelock: learn_lock: generation ${after.generation} active (${after.manifestHash})`)
      },
      onError: (e) => {
        runtime.watchErrors++
        o.log(`WARNING: learn_lock: store watch: ${e.message}`)
      },
    })
    await watch.ready
  }

  const recorders: DecisionSink[] = []
  let fileFinding: ((f: FileFindingReceipt) => void) | undefined
  let airlock: ((c: AirlockChange) => void) | undefined
  const rec = await openRecorder(c, hash, {evidenceKeyId: (hex) => runtime?.rosterKeyId(hex, 'receipt-signing')})
  if (rec !== undefined) {
    if (rec.chains === undefined) o.log(`pipelock: flight recorder: ${c.flight_recorder.dir} (MCP writes receipts only with flight_recorder.signing_key_path; nothing is recorded)`)
    else {
      o.log(`pipelock: flight recorder: ${c.flight_recorder.dir} (signed receipts, key ${rec.chains.publicKeyHex.slice(0, 16)}…)`)
      const receipts = new ReceiptSink(rec.chains, {escrow: c.flight_recorder.raw_escrow, toolCallAgent: o.agent, onError: (m) => o.log(`pipelock: ${m}`)})
      recorders.push(receipts)
      airlock = (ch) => receipts.recordAirlock(airlockEvidenceOf(ch))
      const e = rec.chains.emitter
      fileFinding = (f) => {
        const before = e.failures
        e.emit({
          actionClass: classifyMcp('tools/call', 'write_file'), target: f.path, transport: 'mcp_stdio', verdict: f.verdict, layer: 'file_sentry', pattern: f.pattern, severity: f.severity,
          ...(o.agent !== '' && o.agent !== '_default' ? {agent: o.agent} : {}),
        })
        if (e.failures > before) o.log(`pipelock: receipt emission failed: ${e.lastError ?? 'unknown error'}`)
      }
    }
  }
  let capture: CaptureSink | undefined
  if (o.captureDir !== undefined) {
    if (o.captureDir === '' || !path.isAbsolute(o.captureDir)) throw new PipelockError('USAGE', `capture directory must be an absolute path, got ${JSON.stringify(o.captureDir)}`)
    const raw = o.captureRaw === true
    const fixed = {hash, scanner: o.scanner}
    capture = openCaptureSink({
      dir: o.captureDir, clock: systemClock, snapshot: () => fixed, build: o.build, raw,
      salt: raw ? undefined : resolveSalt(c.learn.privacy.salt_source, o.env),
      toolCalls: {agent: o.agent, server: o.server, invocation: INVOCATION},
    })
    recorders.push(capture)
    o.log(`pipelock: capture: ${capture.description}`)
    if (raw) o.log('WARNING: --capture-raw: capture files hold tool argument values as sent; protect and delete them')
  }
  return {
    contract,
    recorders,
    ...(fileFinding !== undefined ? {fileFinding} : {}),
    ...(airlock !== undefined ? {airlock} : {}),
    async close(): Promise<void> {
      await watch?.close()
      capture?.close()
      rec?.close()
    },
  }
}
