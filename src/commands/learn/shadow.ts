import {homedir} from 'node:os'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {commandProgress} from '../../cli/progress.js'
import {preferSmallHeap, sizeHeapForReplay} from '../../cli/v8-flags.js'
import {LOCATED_CONFIG_ORDER, loadConfig, locateConfigFile} from '../../plugins/config/index.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {parseGoDuration} from '../../plugins/canonical/index.js'
import {mcpSettingsFromConfig} from '../../plugins/mcp/index.js'
import {createScanner} from '../../plugins/scanner/index.js'
import {auditLine, createPayloadReplay, createScannerReplay, SCAN_WORKER_AFTER, createToolPolicyReplay, lifecycleEnv, renderShadowJson, runLearnShadow} from '../../plugins/learn/index.js'
import {scannerSettingsFromConfig} from '../../plugins/proxy/index.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'

export interface ShadowCommandResult {
  contract: string
  contract_hash: string
  sessions: string
  out?: string
  out_json?: string
  recorder_dir?: string
  receipts_emitted: number
  /** What the report cannot say by itself (a contract without enforce rules judges nothing). */
  warnings: string[]
  report: unknown
}

export default class LearnShadow extends BaseCommand {
  static override summary = 'Replay captured traffic against a candidate contract and report what would change'
  static override description = `Every captured event is judged by the same contract evaluator the live gate uses (the scanner first, then the contract: contract-wide default deny once any HTTP rule is enforce, default ports only, exact canonical paths), and compared with what actually happened. The markdown report goes to stdout or --out, the JSON report to --out-json; with --recorder-dir one signed shadow_delta receipt per batch of changed decisions is appended to the flight recorder. The contract signature is verified with --contract-key, or else with the keystore public key named by the contract's signer_key_id (as ratify does; refused when the keystore holds none); --allow-unsigned-contract-for-diagnostics skips that and says so on stderr. Only enforce rules judge a request: a freshly compiled candidate (every rule capture_only) shows no contract decision, and shadow warns so: ratify first, then shadow the ratified contract. --sessions takes a capture sessions root or one capture .jsonl file; --agent discovers sessions under learn.capture_dir of --config. Response and dlp records are summary-only unless --escrow-private-key opens their payload sidecars (captured with run --capture-escrow-public-key): each sidecar must be a bare file name beside its capture file, open as a sealed box, and match payload_sha256, or the whole replay stops.`

  static override examples = [
    '<%= config.bin %> learn shadow --contract ratified.yaml --config pipelock.yaml --agent claude-code --out shadow.md --out-json shadow.json   # key: the keystore public key of the compile signer',
    '<%= config.bin %> learn shadow --contract /tmp/agent.ratified.yaml --contract-key /tmp/compile.pub --sessions /var/lib/pipelock/capture',
    '<%= config.bin %> learn shadow --contract /tmp/agent.ratified.yaml --contract-key 3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380 --sessions /tmp/corpus.jsonl --out /tmp/shadow.md --out-json /tmp/shadow.json --deterministic',
    '<%= config.bin %> learn shadow --contract /tmp/agent.ratified.yaml --contract-key /tmp/compile.pub --sessions /var/lib/pipelock/capture --config pipelock.yaml --escrow-private-key escrow.key   # rescan escrowed dlp/response payloads',
  ]

  static override enableJsonFlag = true

  static override flags = {
    contract: Flags.string({description: 'candidate contract YAML envelope (relative paths are resolved against the working directory)', required: true}),
    'contract-key': Flags.string({description: "trusted compile public key: file path, versioned text or 64 hex (default: the keystore public key of the contract's signer_key_id)"}),
    'allow-unsigned-contract-for-diagnostics': Flags.boolean({description: 'skip signature verification (diagnostics only)', default: false}),
    config: Flags.string({description: `pipelock config for scanner replay and learn.capture_dir (default: ${LOCATED_CONFIG_ORDER})`}),
    sessions: Flags.string({description: 'capture sessions root directory, or one capture .jsonl file (relative paths are resolved against the working directory)'}),
    agent: Flags.string({description: 'discover sessions <agent>|… under learn.capture_dir (when --sessions is not given)'}),
    duration: Flags.string({description: 'look-back window (Go duration)', default: '168h'}),
    out: Flags.string({description: 'markdown report path (default: stdout)'}),
    'out-json': Flags.string({description: 'JSON report path'}),
    'recorder-dir': Flags.string({description: 'write signed shadow_delta receipts into this flight recorder directory'}),
    'escrow-private-key': Flags.string({description: 'X25519 private key (64 hex, or a file holding it) that opens capture payload sidecars (NNNNNN.payload.enc, written by run --capture-escrow-public-key): response and dlp records are rescanned from them instead of summary-only; a sidecar that does not open or whose SHA-256 differs aborts the replay'}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'receipt-key-agent': Flags.string({description: 'keystore key that signs shadow_delta receipts', default: 'receipt-signing'}),
    deterministic: Flags.boolean({description: 'tests only: fixed clock 2026-04-30T12:00:00Z and the public deterministic receipt key', default: false}),
    'allow-empty': Flags.boolean({description: 'exit 0 even when no capture record was replayed (by default an empty replay fails: a CI gate must not pass on nothing)', default: false}),
  }

  async run(): Promise<ShadowCommandResult> {
    const {flags} = await this.parse(LearnShadow)
    // Reports are never written over what they read (the capture, the contract, the recorder).
    refuseFlagOutputs(flags, ['out', 'out-json'], ['contract', 'contract-key', 'config', 'sessions', 'recorder-dir', 'escrow-private-key'])
    preferSmallHeap() // bench: shadow; the contract load sized for memory, the replay for speed (sizeHeapForReplay)
    let durationNs: bigint
    try {
      durationNs = BigInt(Math.round(parseGoDuration(flags.duration))) * 1_000_000n
    } catch {
      throw new PipelockError('SHADOW_INPUT_INVALID', `learn shadow: invalid --duration ${JSON.stringify(flags.duration)}`)
    }
    // Replay scanning never reads this host's environment (env-var DLP is off for replay).
    // The config learn compile reads when --config is not given (locateConfigFile): shadowing
    // under the built-in defaults instead would report the replay's own blocks (a loopback origin
    // the operator's ssrf.ip_allowlist allows) as new blocks.
    const located = locateConfigFile(flags.config, process.env, homedir())
    if (located !== undefined && located.via !== '--config') this.err(`learn shadow: config ${located.file} (${located.via === 'default' ? 'found in a default place' : 'from $PIPELOCK_CONFIG'}; --config names another)`)
    const configFile = located?.file
    const config = configFile === undefined ? undefined : loadConfig(configFile, {env: {}}).config
    const settings = config === undefined ? undefined : scannerSettingsFromConfig(config, {env: {}})
    // Past a few thousand distinct URLs the scans run on a worker thread beside the replay (bench: shadow).
    const scanner = createScannerReplay(settings, {workerAfter: SCAN_WORKER_AFTER})
    // tool_policy records re-run the candidate config's MCP tool policy (learn-lifecycle §3.2).
    const policy = config === undefined || settings === undefined ? null : mcpSettingsFromConfig(config, createScanner(settings)).policy
    const toolPolicy = policy === null ? undefined : createToolPolicyReplay(policy)
    // response/dlp records are rescanned from their escrowed sidecars only when a key opens them.
    const payloadReplay = flags['escrow-private-key'] === undefined ? undefined : createPayloadReplay(settings)
    // From the config loaded above: the file is read once, so the replay's scanner and its sessions come from the same bytes.
    const captureDir = config?.learn.capture_dir
    const progress = commandProgress(this.jsonEnabled(), 'replaying', 'events')
    const r = await runLearnShadow({
      contract: flags.contract,
      allowEmpty: flags['allow-empty'],
      ...(flags['contract-key'] === undefined ? {} : {contractKey: flags['contract-key']}),
      allowUnsignedForDiagnostics: flags['allow-unsigned-contract-for-diagnostics'],
      ...(flags.sessions === undefined ? {} : {sessions: path.resolve(flags.sessions)}),
      ...(flags.agent === undefined ? {} : {agent: flags.agent}),
      ...(captureDir === undefined ? {} : {captureDir}),
      durationNs,
      ...(flags.out === undefined ? {} : {out: flags.out}),
      ...(flags['out-json'] === undefined ? {} : {outJson: flags['out-json']}),
      ...(flags['recorder-dir'] === undefined ? {} : {recorderDir: flags['recorder-dir']}),
      ...(flags['escrow-private-key'] === undefined ? {} : {escrowPrivateKey: flags['escrow-private-key']}),
      keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
      receiptKeyAgent: flags['receipt-key-agent'],
      env: lifecycleEnv(flags.deterministic),
      scanner,
      ...(toolPolicy === undefined ? {} : {toolPolicy}),
      ...(payloadReplay === undefined ? {} : {payloadReplay}),
      warn: (line) => this.err(line),
      onContractLoaded: sizeHeapForReplay,
      ...progress.option,
    }).finally(() => {
      progress.done()
      void scanner.close?.()
    })
    if (r.out === undefined && !this.jsonEnabled()) process.stdout.write(r.markdown)
    for (const w of r.warnings) this.err(`WARNING: ${w}`)
    this.err(
      auditLine(
        {
          event: 'learn_shadow',
          candidate: path.normalize(r.contract),
          agent: r.agent,
          sessions: r.sessions,
          output: r.out,
          review: r.outJson,
          recorder_dir: r.recorderDir,
          events_ingested: r.report.totalRecords,
          rules_emitted: r.report.batches.length,
          quarantines: r.report.quarantines.length,
          receipts_emitted: r.receiptsEmitted,
        },
        r.report.changed === 0,
      ),
    )
    return {
      contract: r.contract,
      contract_hash: r.contractHash,
      sessions: r.sessions,
      ...(r.out === undefined ? {} : {out: r.out}),
      ...(r.outJson === undefined ? {} : {out_json: r.outJson}),
      ...(r.recorderDir === undefined ? {} : {recorder_dir: r.recorderDir}),
      receipts_emitted: r.receiptsEmitted,
      warnings: r.warnings,
      report: JSON.parse(renderShadowJson(r.report)),
    }
  }
}
