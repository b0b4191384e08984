import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {auditLine, lifecycleEnv, pinMessage, pinWarnings, runLearnPin, type PinResult} from '../../plugins/learn/index.js'
import {loadEd25519Arithmetic, resolveKeystoreDir} from '../../plugins/signing/index.js'

export default class LearnPin extends BaseCommand {
  static override summary = 'Pin a literal path segment on one rule so normalisation never collapses it'
  static override description = `Adds {value: SEGMENT, reason: operator_pin} to pinned_segments of every path of the rule that has a normalization block (pins are keyed by value, not position). Pinning a segment that is already pinned is a no-op and exits 0; so is pinning on a rule with no normalised path (nothing to pin), which a warning on stderr names. A signed envelope has its signature verified first and is re-signed with the compile key; a bare contract body keeps its comments and stays unsigned.`

  static override examples = [
    '<%= config.bin %> learn pin --candidate /tmp/agent.candidate.yaml --rule r-0123456789abcdef0123 --segment core',
    '<%= config.bin %> learn pin --candidate /tmp/agent.candidate.yaml --rule r-0123456789abcdef0123 --segment v1 --out /tmp/agent.pinned.yaml',
  ]

  static override enableJsonFlag = true

  static override flags = {
    candidate: Flags.string({description: 'candidate contract file', required: true}),
    rule: Flags.string({description: 'rule id to edit', required: true}),
    segment: Flags.string({description: 'literal segment to pin (no / * ? [ ], no control bytes, at most 256 bytes)', required: true}),
    out: Flags.string({description: 'destination file (default: in place)'}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'compile-key-agent': Flags.string({description: 'keystore key that re-signs an envelope (default: its signer_key_id)'}),
    'contract-key': Flags.string({description: 'public key that must verify an envelope (default: keystore public key of its signer)'}),
    deterministic: Flags.boolean({description: 'tests only: trust and re-sign with the public deterministic compile keys', default: false}),
  }

  async run(): Promise<PinResult> {
    const {flags} = await this.parse(LearnPin)
    // the curve arithmetic of the streamed signature check: a signed candidate is then read rule by rule
    await loadEd25519Arithmetic()
    const r = runLearnPin({
      candidate: flags.candidate,
      rule: flags.rule,
      segment: flags.segment,
      ...(flags.out === undefined ? {} : {out: flags.out}),
      keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
      ...(flags['compile-key-agent'] === undefined ? {} : {compileKeyAgent: flags['compile-key-agent']}),
      ...(flags['contract-key'] === undefined ? {} : {contractKey: flags['contract-key']}),
      env: lifecycleEnv(flags.deterministic),
    })
    this.out(pinMessage(r))
    for (const w of pinWarnings(r)) this.err(w)
    this.err(auditLine({event: 'learn_pin', candidate: r.candidate, dest: r.dest, rule: r.rule, segment: r.segment, segments_changed: r.changed}, r.changed === 0))
    return r
  }
}
