import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {auditLine, lifecycleEnv, runLearnSplit, splitMessage, splitWarnings, type SplitResult} from '../../plugins/learn/index.js'
import {loadEd25519Arithmetic, resolveKeystoreDir} from '../../plugins/signing/index.js'

export default class LearnSplit extends BaseCommand {
  static override summary = 'Demote collapsed path segments of one rule back to literal segments'
  static override description = `Moves the rule's collapsed segments (all, or the one at --index) into retained_segments with reason operator_split and rebuilds the path value from its segments. At the gate a "*" is a wildcard (any one segment) only at a segment listed in collapsed_segments; anywhere else it is a literal asterisk. So a split segment matches only the literal value it returns to: a collapsed segment that stood for many values has none, keeps "*" and then matches no real request (a warning names it). A signed envelope (as compile and ratify write it) has its signature verified first and is re-signed with the compile key; a bare contract body keeps its comments and stays unsigned. A no-op exits 0.`

  static override examples = [
    '<%= config.bin %> learn split --candidate /tmp/agent.candidate.yaml --rule r-0123456789abcdef0123',
    '<%= config.bin %> learn split --candidate /tmp/agent.candidate.yaml --rule r-0123456789abcdef0123 --index 2 --out /tmp/agent.split.yaml',
  ]

  static override enableJsonFlag = true

  static override flags = {
    candidate: Flags.string({description: 'candidate contract file', required: true}),
    rule: Flags.string({description: 'rule id to edit', required: true}),
    index: Flags.integer({description: 'segment index to demote, counted from 1 (/v1 is 1; the * of /v1/users/* is 3); 0 = all collapsed segments', default: 0, min: 0}),
    out: Flags.string({description: 'destination file (default: in place)'}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'compile-key-agent': Flags.string({description: 'keystore key that re-signs an envelope (default: its signer_key_id)'}),
    'contract-key': Flags.string({description: 'public key that must verify an envelope (default: keystore public key of its signer)'}),
    deterministic: Flags.boolean({description: 'tests only: trust and re-sign with the public deterministic compile keys', default: false}),
  }

  async run(): Promise<SplitResult> {
    const {flags} = await this.parse(LearnSplit)
    // the curve arithmetic of the streamed signature check: a signed candidate is then read rule by rule
    await loadEd25519Arithmetic()
    const r = runLearnSplit({
      candidate: flags.candidate,
      rule: flags.rule,
      index: flags.index,
      ...(flags.out === undefined ? {} : {out: flags.out}),
      keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
      ...(flags['compile-key-agent'] === undefined ? {} : {compileKeyAgent: flags['compile-key-agent']}),
      ...(flags['contract-key'] === undefined ? {} : {contractKey: flags['contract-key']}),
      env: lifecycleEnv(flags.deterministic),
    })
    this.out(splitMessage(r))
    for (const w of splitWarnings(r)) this.err(w)
    this.err(auditLine({event: 'learn_split', candidate: r.candidate, dest: r.dest, rule: r.rule, index: r.index, segments_changed: r.changed}, r.changed === 0))
    return r
  }
}
