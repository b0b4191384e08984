import {statSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {compactHeapNow, sizeCompileHeap} from '../../cli/v8-flags.js'
import {commandProgress} from '../../cli/progress.js'
import {parseGoDuration, systemClock} from '../../plugins/canonical/index.js'
import {locateConfigFile, pipelockHome} from '../../plugins/config/index.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'
import {STORE_CONTRACT_MAX_BYTES} from '../../plugins/store/index.js'
import {cutLineText, skippedText} from '../../plugins/capture/index.js'
import {compileAuditLine, describeBuild, runFixtureCompile, runLearnCompile, type CompileSummary} from '../../plugins/learn/index.js'

export default class LearnCompile extends BaseCommand {
  static override summary = 'Compile captured traffic into a signed candidate contract'
  static override description = `Reads the hash-chained capture files of one agent (from --input, or discovered under learn.capture_dir), verifies every chain, aggregates the HTTP(S) events into per-host, per-path, per-method and per-action rules with Wilson lower-bound confidence, and writes three files atomically: the signed candidate contract (YAML), its signed compile manifest (JSON) and a review (markdown). Nothing is written when any input fails verification.

Deterministic fixture form (reproducible builds, conformance): pipelock learn compile --fixture FIXTURE.json --input CORPUS.jsonl --out-dir DIR writes DIR/contract.yaml, DIR/contract.manifest.json and DIR/review.md.`

  static override examples = [
    '<%= config.bin %> learn compile --agent my-agent --input "/var/lib/pipelock/capture/my-agent|*/*.jsonl" --deterministic --output /tmp/my-agent.candidate.yaml',
    '<%= config.bin %> learn compile --agent my-agent --config /etc/pipelock/pipelock.yaml',
    '<%= config.bin %> learn compile --agent _default --include-mcp --input "/var/lib/pipelock/capture/_default|mcp-stdio-1/*.jsonl" --output /tmp/mcp.candidate.yaml',
    '<%= config.bin %> learn compile --fixture goldens/multi-session/fixture.json --input "goldens/multi-session/input/*/*.jsonl" --out-dir /tmp/compiled',
  ]

  static override enableJsonFlag = true

  static override flags = {
    agent: Flags.string({description: 'agent whose captures are compiled (one path segment); becomes selector.agent'}),
    input: Flags.string({description: 'capture files (glob); skips discovery and --since'}),
    since: Flags.string({description: 'discovery window: only files modified this recently (Go duration)', default: '336h0m0s'}),
    output: Flags.string({description: 'candidate contract path (default <home>/contracts/candidates/<agent>.candidate.yaml)'}),
    review: Flags.string({description: 'review markdown path (default: --output with .review.md)'}),
    'compile-manifest': Flags.string({description: 'compile manifest path (default: --output with .manifest.json)'}),
    config: Flags.string({description: 'config file whose learn block sets floors, normalisation and capture_dir'}),
    'escrow-private-key': Flags.string({description: 'accepted for compatibility (64 hex); compile never reads payload sidecars'}),
    deterministic: Flags.boolean({description: 'fixed clock (2026-04-29T22:00:00Z) and the public deterministic signer', default: false}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'compile-key-agent': Flags.string({description: 'keystore agent whose key signs (default: --agent)'}),
    'accept-tail': Flags.boolean({description: 'accept a per-host _other tail above tail_promotion_block_pct', default: false}),
    'include-mcp': Flags.boolean({description: 'also compile MCP tool-call captures (mcp proxy --capture-output) into mcp_tool_call rules', default: false}),
    fixture: Flags.string({
      description: 'deterministic compile fixture (JSON); requires --input and --out-dir, and takes no other flag',
      // The fixture names the agent, the clock, the signer and the floors: a flag of the capture
      // form would be ignored, so it is refused instead.
      combinable: ['input', 'out-dir', 'json'],
    }),
    'out-dir': Flags.string({description: 'with --fixture: directory for contract.yaml, contract.manifest.json, review.md', dependsOn: ['fixture']}),
  }

  async run(): Promise<CompileSummary> {
    const {flags} = await this.parse(LearnCompile)
    refuseFlagOutputs(flags, ['output', 'review', 'compile-manifest'], ['config', 'fixture', 'escrow-private-key'])
    sizeCompileHeap(process.execArgv, process.env.NODE_OPTIONS)
    const compactHeap = (): void => void compactHeapNow(process.execArgv, process.env.NODE_OPTIONS)
    const build = describeBuild(this.config.root, process.versions.node, process.env.PIPELOCK_BUILD_SHA ?? 'unknown')
    let summary: CompileSummary
    if (flags.fixture !== undefined) {
      if (flags.input === undefined || flags['out-dir'] === undefined) throw new PipelockError('USAGE', '--fixture needs --input and --out-dir')
      summary = await runFixtureCompile({fixtureFile: flags.fixture, input: flags.input, outDir: flags['out-dir'], build, clock: systemClock, compactHeap})
    } else {
      if (flags.agent === undefined) throw new PipelockError('USAGE', '--agent is required (or use --fixture)')
      const home = pipelockHome(process.env, homedir())
      const located = locateConfigFile(flags.config, process.env, homedir())
      const configFile = located?.file ?? path.join(home, 'pipelock.yaml')
      const progress = commandProgress(this.jsonEnabled(), 'compiling', 'entries')
      summary = await runLearnCompile({
        agent: flags.agent,
        ...(flags.input === undefined ? {} : {input: flags.input}),
        sinceMs: parseGoDuration(flags.since),
        ...(flags.output === undefined ? {} : {output: flags.output}),
        ...(flags.review === undefined ? {} : {review: flags.review}),
        ...(flags['compile-manifest'] === undefined ? {} : {compileManifest: flags['compile-manifest']}),
        configFile,
        configExplicit: located !== undefined && located.via !== 'default',
        ...(flags['escrow-private-key'] === undefined ? {} : {escrowPrivateKey: flags['escrow-private-key']}),
        deterministic: flags.deterministic,
        acceptTail: flags['accept-tail'],
        includeMcp: flags['include-mcp'],
        keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
        ...(flags['compile-key-agent'] === undefined ? {} : {compileKeyAgent: flags['compile-key-agent']}),
        home,
        clock: systemClock,
        build,
        compactHeap,
        ...progress.option,
      }).finally(progress.done)
      this.err(compileAuditLine(summary, flags.input === undefined ? flags.since : ''))
      for (const s of summary.skippedInputs) this.err(`WARNING: learn compile: skipped a damaged capture session (its evidence is not in the contract): ${skippedText(s)}`)
      for (const c of summary.cutLines) this.err(`WARNING: learn compile: ${cutLineText(c)}`)
    }
    // Said now, not at the promote after a review and a ratification: the contract store takes a
    // contract up to its cap only (pipelock run decodes every active contract whole).
    const bytes = statSync(summary.output).size
    if (bytes > STORE_CONTRACT_MAX_BYTES) {
      this.err(
        `WARNING: learn compile: the contract is ${bytes} bytes (${summary.rules} rules), over the ${STORE_CONTRACT_MAX_BYTES}-byte (16 MiB) cap of a contract in the contract store: learn promote will refuse it; compile from a narrower capture (one agent, a shorter window) or raise learn.inference floors so that fewer rules are emitted`,
      )
    }
    this.out(`compile: ${summary.events} events, ${summary.rules} rules, written to ${summary.output}`)
    return summary
  }
}
