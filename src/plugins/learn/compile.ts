import {
  assertYamlEmittable,
  canonicalBytes,
  CanonicalText,
  emitSignedYamlTo,
  formatGoTime,
  fromEpochNanos,
  goJson,
  JsonNumber,
  YamlEmitError,
  type Clock,
  type JsonObject,
  type JsonValue,
} from '../canonical/index.js'
import {decodeSummary, readCaptureInputs, SummaryDecodeError, type CaptureFileRef, type CaptureInput, type CutLine, type DecodedSummary, type EntrySource} from '../capture/index.js'
import {
  CONTRACT_KEY_PURPOSE,
  manifestProblem,
  moduleDigestRoot,
  projectContractBody,
  projectContractRule,
  signCanonical,
} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {formatSignature, sha256Hex, signBytes, type Ed25519KeyPair} from '../signing/index.js'
import {Aggregator, type AggregateResult, type EventPlace} from './aggregate.js'
import {fromByteString} from '../canonical/index.js'
import {resolveFloors, type Confidence, type Floors} from './inference.js'
import {jsonIndentNoHtml, sortedTree} from './json-out.js'
import {DEFAULT_NORMALIZATION, NORMALIZATION_ALGORITHM, type NormalizationSettings} from './normalize.js'
import {renderReview, reviewInputFromCompile} from './review.js'
import {assertRuleYamlEmittable, reviewRuleSource, ruleCanonical, ruleConfidence, ruleYamlLines} from './rule-emit.js'
import {buildRule} from './rules.js'
import {writeSignedBody} from './signed-body.js'

export const INFERENCE_ALGORITHM = 'wilson_lb_v1'
export const DEFAULT_WINDOW_SECONDS = 3600
export const DEFAULT_CARDINALITY_CAP = 1000
export const DEFAULT_TAIL_PROMOTION_BLOCK_PCT = 5.0

/** Everything that shapes the contract (learn-compile §19.4 fixture / CLI `learn` block). */
export interface CompileConfig {
  /** [ext, mcp.md §15.6.1] compile MCP tool-call records into `mcp_tool_call` rules (default off). */
  includeMcp?: boolean
  agent: string
  floors?: Partial<Floors>
  normalization?: {
    min_events?: number
    min_distinct_values?: number
    entropy_threshold_bits?: number
    reserved_segments_extra?: readonly string[]
  }
  cardinalityCapPerHost?: number
  tailPromotionBlockPct?: number
  acceptTail?: boolean
  windowSeconds?: number
  compileConfigHash: string
  pipelockVersion: string
  pipelockBuildSha: string
  goVersion: string
  moduleDigestRoot: string
  priorContractHash?: string
  observationWindowId?: string
  settings?: JsonObject
}

export interface CompileSigner {
  keyPair: Ed25519KeyPair
  keyId: string
}

export interface InputRefOverride {
  path: string
  sha256?: string
  event_count: number
}

export interface CompileOptions {
  clock: Clock
  signer: CompileSigner
  /** The manifest's `module_digests` (this build's modules, or the build-info marker). */
  moduleDigests: JsonObject
  /** Verbatim input refs (fixture form); a missing sha256 is the input bytes' digest. */
  inputRefs?: readonly InputRefOverride[]
  /** Progress: input bytes read so far and entries verified so far (after every read chunk). */
  onProgress?: (bytesRead: number, entries: number) => void
  /**
   * Called right before the signed body of a large contract (at least COMPACT_HEAP_BODY_BYTES,
   * estimated from its rule count) is written: the compile's memory peak, so the command makes the
   * heap small there (src/cli/v8-flags.ts `compactHeapNow`).
   */
  compactHeap?: () => void
  /** A file's last line cut short by a crash, left out (capture `ReadOptions.onCutLine`); without it such a line fails the compile. */
  onCutLine?: (cut: CutLine) => void
}

/** The canonical body size from which `compactHeap` is called (a small contract's peak is elsewhere). */
export const COMPACT_HEAP_BODY_BYTES = 32 * 1024 * 1024

/** The least a rule's canonical text takes (≈ 0.95 KB on the bench corpora): the body size is estimated from the rule count, since the body is hashed as it is written. */
const COMPACT_HEAP_RULE_BYTES = 700

export interface CompileStats {
  /** Verified recorder entries (all types). */
  entriesRead: number
  eventsIngested: number
  ingestErrors: number
  dropped: number
  malformed: number
  rules: number
  confidence: Record<Confidence, number>
}

export interface CompileResult {
  /**
   * The contract YAML. Rendered on each read (≈ 1.2 KB per rule): write it with `writeYaml`,
   * which streams it in ≈ 64 KiB pieces and never holds the document.
   */
  readonly yaml: string
  /** Streams the contract YAML (the bytes of `yaml`) to `write`. */
  writeYaml(write: (chunk: string) => void): void
  manifestJson: string
  review: string
  /** The signed envelope `{body, signature}`, built on each read (every rule as a tree: tests, small contracts). */
  readonly contract: JsonObject
  contractHash: string
  stats: CompileStats
  aggregate: AggregateResult
  inputs: CaptureFileRef[]
}

const int = (n: number | bigint): JsonNumber => new JsonNumber(String(n))

function secondsToTime(s: number): string {
  return formatGoTime(fromEpochNanos(BigInt(s) * 1_000_000_000n))
}

/** §9.1: sha256 of Go's json.Marshal of the sorted-key summary map. */
export function observationWindowRoot(agg: AggregateResult, start: string, end: string): string {
  const payload: JsonObject = new Map<string, JsonValue>([
    ['dropped', int(agg.dropped)],
    ['end', end],
    ['events', int(agg.total)],
    ['malformed', int(agg.malformed)],
    ['rules', agg.rules.map((r) => fromByteString(r.key))],
    ['start', start],
  ])
  return 'sha256:' + sha256Hex(goJson(payload))
}

export function resolveNormalization(c: CompileConfig['normalization']): NormalizationSettings {
  return {
    minEvents: c?.min_events || DEFAULT_NORMALIZATION.minEvents,
    minDistinctValues: c?.min_distinct_values || DEFAULT_NORMALIZATION.minDistinctValues,
    entropyThresholdBits: c?.entropy_threshold_bits || DEFAULT_NORMALIZATION.entropyThresholdBits,
    reservedSegmentsExtra: c?.reserved_segments_extra ?? [],
  }
}

/**
 * The compile as a pure function of its inputs (learn-compile §19.4 test hook): stream the
 * capture inputs, aggregate, infer, build and sign the contract and manifest, render the review.
 * Throws PipelockError for unusable input; nothing is written here.
 */
export async function compileContract(inputs: readonly CaptureInput[], config: CompileConfig, options: CompileOptions): Promise<CompileResult> {
  const startedAt = formatGoTime(fromEpochNanos(options.clock.nowNanos()))
  const floors = resolveFloors(config.floors)
  const windowSeconds = config.windowSeconds || DEFAULT_WINDOW_SECONDS
  if (!Number.isInteger(windowSeconds) || windowSeconds < 1) {
    throw new PipelockError('CONFIG_INVALID', `window duration must be a positive whole number of seconds, got ${windowSeconds}`)
  }
  const agg = new Aggregator(windowSeconds)
  const stats: CompileStats = {entriesRead: 0, eventsIngested: 0, ingestErrors: 0, dropped: 0, malformed: 0, rules: 0, confidence: {stable: 0, brittle: 0, never_confirmed: 0}}
  const refs: CaptureFileRef[] = []
  let lastSource: {file: string; line: number} | undefined
  let bytesRead = 0

  const take = (entry: EventPlace, summary: DecodedSummary, source: EntrySource): void => {
    // Poisoned-capture defence inside a session: a record that names another agent is
    // refused outright (the directory-level check of §2.6 only reads the first line).
    if (summary.agent !== '' && summary.agent !== config.agent) {
      throw new PipelockError('CAPTURE_AGENT_MISMATCH', `capture record belongs to agent ${JSON.stringify(summary.agent)}, not ${JSON.stringify(config.agent)}`, {
        location: source,
        hint: 'remove the foreign session directory from the capture root, or compile with the matching --agent',
      })
    }
    // [ext, mcp.md §15.6.1] MCP tool calls become `mcp_tool_call` rules with --include-mcp;
    // without it they stay malformed for compile (no http(s) URL), as in the reference.
    if (config.includeMcp === true && summary.mcpMethod === 'tools/call' && summary.toolName !== '' && summary.mcpServer !== '') agg.addMcp(entry, summary)
    else agg.addCapture(entry, summary)
  }

  await readCaptureInputs(inputs, {
    onEntry: (entry, source) => {
      stats.entriesRead++
      lastSource = source
      if (entry.type === 'capture') {
        let summary
        try {
          summary = decodeSummary(entry.detail)
        } catch (e) {
          if (!(e instanceof SummaryDecodeError)) throw e
          // Ingest-level malformed: not part of the hashed `malformed` count (§20 Q7).
          stats.ingestErrors++
          return
        }
        take(entry, summary, source)
      } else if (entry.type === 'capture_drop') {
        agg.addDrop(entry.detail)
      }
    },
    // A capture line in the writer's own layout is read without JSON.parse: the same entry and
    // summary values (differential test: shadow-writer-line.test), ≈ a third of the read's CPU
    // and most of its garbage. Its strings are slices of the line; the aggregator copies the
    // few it keeps.
    onCapture: (c, source) => {
      stats.entriesRead++
      lastSource = source
      take(c, c, source)
    },
    captureSlices: true,
    onFile: (ref) => refs.push(ref),
    ...(options.onCutLine === undefined ? {} : {onCutLine: options.onCutLine}),
    onBytes: (n) => {
      bytesRead += n
      options.onProgress?.(bytesRead, stats.entriesRead)
    },
  })

  if (agg.eventCount === 0) {
    const last = refs[refs.length - 1]
    throw new PipelockError('COMPILE_NO_EVENTS', `no HTTP(S) capture events in the input (${stats.entriesRead} entries read, ${stats.ingestErrors} undecodable summaries)`, {
      location: lastSource ?? (last === undefined ? {} : {file: last.path, ...(last.eventCount > 0 ? {line: last.eventCount} : {})}),
      hint: 'capture traffic with `pipelock learn observe` first, or point --input at the capture files',
    })
  }

  const result = agg.finish({
    normalization: resolveNormalization(config.normalization),
    cardinalityCapPerHost: config.cardinalityCapPerHost || DEFAULT_CARDINALITY_CAP,
    tailPromotionBlockPct: config.tailPromotionBlockPct || DEFAULT_TAIL_PROMOTION_BLOCK_PCT,
    acceptTail: config.acceptTail ?? false,
  })
  const start = result.windowStart === undefined ? '0001-01-01T00:00:00Z' : secondsToTime(result.windowStart)
  const end = result.windowEnd === undefined ? '0001-01-01T00:00:00Z' : secondsToTime(result.windowEnd)
  stats.eventsIngested = result.total
  stats.dropped = result.dropped
  stats.malformed = result.malformed
  stats.rules = result.rules.length
  const finishedAt = formatGoTime(fromEpochNanos(options.clock.nowNanos()))

  // §9 contract body, Go struct order.
  const body: JsonObject = new Map()
  body.set('schema_version', int(1))
  body.set('contract_kind', 'behavioral_contract')
  body.set('contract_hash', '')
  if (config.priorContractHash) body.set('prior_contract_hash', config.priorContractHash)
  body.set('signer_key_id', options.signer.keyId)
  body.set('key_purpose', CONTRACT_KEY_PURPOSE)
  body.set('data_class_root', 'internal')
  body.set('field_data_classes', new Map())
  const selector: JsonObject = new Map()
  if (config.agent !== '') selector.set('agent', config.agent)
  selector.set('selector_id', 'sha256:' + sha256Hex('agent=' + config.agent))
  body.set('selector', selector)
  body.set(
    'observation_window',
    new Map<string, JsonValue>([
      ['start', start],
      ['end', end],
      ['event_count', int(result.total)],
      ['session_count', int(result.sessionCount)],
      ['observation_window_root', config.observationWindowId || observationWindowRoot(result, start, end)],
    ]),
  )
  body.set(
    'compile',
    new Map<string, JsonValue>([
      ['pipelock_version', config.pipelockVersion],
      ['pipelock_build_sha', config.pipelockBuildSha],
      ['go_version', config.goVersion],
      ['module_digest_root', config.moduleDigestRoot],
      ['compile_config_hash', config.compileConfigHash],
      ['inference_algorithm', INFERENCE_ALGORITHM],
      ['normalization_algorithm', NORMALIZATION_ALGORITHM],
    ]),
  )
  body.set(
    'defaults',
    new Map<string, JsonValue>([
      ['fidelity', 'medium'],
      ['confidence', new Map<string, JsonValue>([['min_events', int(floors.min_events)], ['min_sessions', int(floors.min_sessions)], ['min_windows', int(floors.min_windows)]])],
      ['privacy', new Map<string, JsonValue>([['default_data_class', 'internal'], ['salt_epoch', int(0)], ['forbid_classes', ['regulated']]])],
    ]),
  )
  // The rules are never held as one tree (issue 36): each pass below (hash, signature twice,
  // YAML, review) writes them one at a time straight from the compact aggregates (rule-emit.ts);
  // `contract` builds the trees only when asked.
  body.set('rules', [])
  const ruleAggs = result.rules
  let projected: JsonObject
  let hash: string
  let signature: string
  let slot: JsonValue[]
  try {
    projected = projectContractBody(body)
    slot = projected.get('rules') as JsonValue[]
    const canonicalRules = function* (): Generator<CanonicalText> {
      for (const r of ruleAggs) yield new CanonicalText(ruleCanonical(r, floors))
    }
    const expand = (a: readonly JsonValue[]): Iterable<CanonicalText> | undefined => (a === slot ? canonicalRules() : undefined)
    // Refuse what the YAML could not carry before anything is hashed or written.
    assertYamlEmittable(projected)
    for (const r of ruleAggs) {
      assertRuleYamlEmittable(r)
      stats.confidence[ruleConfidence(r, floors)]++
    }
    // contract_hash: SHA-256 of the canonical body with an empty hash; the signature: over the
    // same body with the hash filled in, by node:crypto (OpenSSL's constant-time Ed25519; a
    // streamed signer would need a nonce multiplication of our own, in variable time). Ed25519
    // reads its message twice, so the body is held once, written by one canonical pass
    // (signed-body.ts). It is the compile's peak (bench: compile): the heap is made small first
    // for a large contract, and the body's buffer goes back once signed, before the YAML and
    // review are written. Reserved at 4 KiB a rule (≈ 0.95 KB written); a larger body takes two passes.
    const signed = writeSignedBody(
      projected,
      expand,
      (bytes) => formatSignature(signBytes(options.signer.keyPair, bytes)),
      Math.max(64 * 1024 * 1024, ruleAggs.length * 4096),
      ruleAggs.length * COMPACT_HEAP_RULE_BYTES >= COMPACT_HEAP_BODY_BYTES ? options.compactHeap : undefined,
    )
    hash = signed.hash
    signature = signed.signature
    projected.set('contract_hash', hash)
  } catch (e) {
    if (e instanceof YamlEmitError) throw new PipelockError('COMPILE_FAILED', e.message)
    throw new PipelockError('COMPILE_FAILED', `cannot canonicalise the contract: ${(e as Error).message}`)
  }
  const emitYaml = (write: (chunk: string) => void): void => {
    const envelope: JsonObject = new Map<string, JsonValue>([
      ['body', projected],
      ['signature', signature],
    ])
    emitSignedYamlTo(envelope, write, (a) =>
      a === slot
        ? {
            count: ruleAggs.length,
            lines: (push, col) => {
              if (col !== 8) throw new Error(`rules sequence at column ${col}, not 8`)
              const lines: string[] = []
              for (const r of ruleAggs) {
                ruleYamlLines(r, floors, lines)
                for (const line of lines) push(line)
                lines.length = 0
              }
            },
          }
        : undefined,
    )
  }
  const contractTree = (): JsonObject => {
    const b: JsonObject = new Map(projected)
    b.set(
      'rules',
      ruleAggs.map((r, i) => projectContractRule(buildRule(r, floors).tree, i)),
    )
    return new Map<string, JsonValue>([
      ['body', b],
      ['signature', signature],
    ])
  }

  // §12 compile manifest.
  const inputRefs =
    options.inputRefs?.map((r, i) => ({path: r.path, sha256: r.sha256 || (refs[i]?.sha256 ?? ''), eventCount: r.event_count})) ??
    refs.map((r) => ({path: r.path, sha256: r.sha256, eventCount: r.eventCount}))
  const digests = sortedTree(options.moduleDigests) as JsonObject
  const mbody: JsonObject = new Map()
  mbody.set('schema_version', int(1))
  mbody.set('contract_hash', hash)
  mbody.set('compile_started_at', startedAt)
  mbody.set('compile_finished_at', finishedAt)
  mbody.set('pipelock_version', config.pipelockVersion)
  mbody.set('pipelock_build_sha', config.pipelockBuildSha)
  mbody.set('go_version', config.goVersion)
  // Recomputed from this build's digests, not copied from the contract (§20 Q12).
  mbody.set('module_digest_root', moduleDigestRoot(digests))
  mbody.set('module_digests', digests)
  mbody.set('compile_config_hash', config.compileConfigHash)
  mbody.set(
    'inputs',
    inputRefs.map((r) => new Map<string, JsonValue>([['path', r.path], ['sha256', r.sha256], ['event_count', int(r.eventCount)]])),
  )
  mbody.set('observation_window_root', (projected.get('observation_window') as JsonObject).get('observation_window_root') as string)
  if (config.settings !== undefined && config.settings.size > 0) mbody.set('settings', sortedTree(config.settings))
  mbody.set('signer_key_id', options.signer.keyId)
  mbody.set('key_purpose', CONTRACT_KEY_PURPOSE)
  const problem = manifestProblem(mbody)
  if (problem !== undefined) throw new PipelockError('COMPILE_FAILED', problem)
  let msig: string
  try {
    canonicalBytes(mbody)
    msig = signCanonical(mbody, options.signer.keyPair)
  } catch (e) {
    throw new PipelockError('COMPILE_FAILED', `cannot canonicalise the compile manifest: ${(e as Error).message}`)
  }
  const manifestJson = jsonIndentNoHtml(new Map<string, JsonValue>([['body', mbody], ['signature', msig]])) + '\n'

  const review = renderReview(reviewInputFromCompile(projected, result, floors, config.acceptTail ?? false, reviewRuleSource(ruleAggs, floors)))
  return {
    get yaml(): string {
      const parts: string[] = []
      emitYaml((chunk) => parts.push(chunk))
      return parts.join('')
    },
    writeYaml: emitYaml,
    get contract(): JsonObject {
      return contractTree()
    },
    manifestJson,
    review,
    contractHash: hash,
    stats,
    aggregate: result,
    inputs: refs,
  }
}
