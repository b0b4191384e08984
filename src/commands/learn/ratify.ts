import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {isPromptInterrupt, withApplyToRemaining} from '../../cli/ratify-answers.js'
import {auditLine, inquirerPrompt, lifecycleEnv, lineReaderPrompt, parseDecideFlags, runLearnRatify, type RatifyResult} from '../../plugins/learn/index.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'

export default class LearnRatify extends BaseCommand {
  static override summary = 'Ratify a candidate contract: decide per rule, re-sign, write a contract_ratified receipt'
  static override description = `Verifies the candidate's existing signature first (with --contract-key, else the keystore public key of its signer_key_id), so a modified candidate is never re-signed. Non-interactive: every rule of a compiled candidate becomes enforce; a contract ratified before (some rule already enforce) keeps its decisions, capture_only rules stay capture_only, unless --redo-decisions is given. --decide RULE_ID=e|c|r (repeatable; also enforce, capture-only, reject spelled out) decides the rules it names without a prompt, in any order, and every other rule as above: for CI, or to enforce one capture-only rule of a contract ratified before; see the rule ids with pipelock learn review CANDIDATE. Any low-confidence rule (confidence other than stable or brittle) that would be enforced is refused unless --accept-low-confidence. Interactive: each rule's evidence (selector, what it allows, events and sessions, Wilson lower bound, confidence, data class, rationale) is shown and you answer e (enforce), c (capture-only) or r (reject), or a to apply your previous answer to this and every remaining rule; Ctrl-C stops without writing anything; on a terminal this is an inquirer prompt, on a pipe one line per rule. Ratify warns (stderr, and warnings in --json) when a rejected rule is still allowed by a broader enforced rule, and when a rule left capture-only shares its host with an enforced rule that does not cover it: under a live contract only enforce rules allow, so the host's default deny refuses that rule's requests; enforce it to keep them reachable. The candidate is re-signed with the compile key and a contract_ratified EvidenceReceipt v2 is appended to the receipt file; the new candidate replaces the destination only after the receipt is written.`

  // oclif's generated usage shows two flags exclusive with --interactive as `[--redo-decisions | ]`
  static override usage =
    '<%= command.id %> --candidate <value> [--json] [--out <value>] [--receipt-out <value>] [--keystore <value>] [--compile-key-agent <value>] [--receipt-key-agent <value>] [--contract-key <value>] [--interactive | [--decide <value>...] [--redo-decisions]] [--accept-low-confidence] [--deterministic]'

  static override examples = [
    '<%= config.bin %> learn ratify --candidate /tmp/agent.candidate.yaml --interactive',
    '<%= config.bin %> learn ratify --candidate /tmp/agent.candidate.yaml --accept-low-confidence --out /tmp/agent.ratified.yaml --deterministic',
    'printf "e\\nc\\nr\\n" | <%= config.bin %> learn ratify --candidate /tmp/agent.candidate.yaml --interactive --contract-key /tmp/compile.pub',
    {
      description: 'Decide named rules without a prompt (CI): enforce one, keep another capture-only; every rule not named is decided as without --decide',
      command: '<%= config.bin %> learn ratify --candidate /tmp/agent.ratified.yaml --decide r-1c6ed57b038552fa949d=e --decide r-39df75f1cf877389a0b2=c --out /tmp/agent.v2.yaml',
    },
    {description: 'Re-sign a contract ratified before, making every rule enforce (without --redo-decisions its capture_only rules stay capture_only)', command: '<%= config.bin %> learn ratify --candidate /tmp/agent.ratified.yaml --redo-decisions --accept-low-confidence'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    candidate: Flags.string({description: 'candidate contract file', required: true}),
    out: Flags.string({description: 'destination file (default: rewrite the candidate in place)'}),
    'receipt-out': Flags.string({description: 'receipt JSONL file (default <dir of destination>/ratification-receipts.jsonl)'}),
    keystore: Flags.string({description: 'agent keystore (default $PIPELOCK_HOME or ~/.pipelock)'}),
    'compile-key-agent': Flags.string({description: 'keystore key that re-signs the contract (default: the candidate signer_key_id)'}),
    'receipt-key-agent': Flags.string({description: 'keystore key that signs the receipt', default: 'receipt-signing'}),
    'contract-key': Flags.string({description: 'public key that must verify the incoming candidate (file or inline; default: keystore public key of its signer)'}),
    interactive: Flags.boolean({description: 'decide per rule: e enforce, c capture-only, r reject', default: false}),
    decide: Flags.string({
      description: 'non-interactive, repeatable: decide the named rule, RULE_ID=e (enforce), =c (capture-only) or =r (reject); rules not named are decided as without it',
      multiple: true,
      exclusive: ['interactive'],
    }),
    'accept-low-confidence': Flags.boolean({description: 'allow enforcing rules whose confidence is not stable or brittle', default: false}),
    'redo-decisions': Flags.boolean({description: 'non-interactive: make every rule enforce (but those --decide names) even in a contract ratified before (by default its capture_only decisions are kept)', default: false, exclusive: ['interactive']}),
    deterministic: Flags.boolean({description: 'tests only: fixed clock, ids and public deterministic keys', default: false}),
  }

  async run(): Promise<RatifyResult> {
    const {flags} = await this.parse(LearnRatify)
    // --out may be the candidate (the default rewrites it in place); the receipt file may not.
    refuseFlagOutputs(flags, ['receipt-out'], ['candidate', 'out', 'contract-key'])
    // Prompts go to stdout, or to stderr under --json so stdout stays one JSON document.
    const promptOut = this.jsonEnabled() ? process.stderr : process.stdout
    const decide = parseDecideFlags(flags.decide ?? [])
    const piped = flags.interactive && !process.stdin.isTTY ? lineReaderPrompt(process.stdin, promptOut) : undefined
    try {
      const r = await runLearnRatify({
        candidate: flags.candidate,
        ...(flags.out === undefined ? {} : {out: flags.out}),
        ...(flags['receipt-out'] === undefined ? {} : {receiptOut: flags['receipt-out']}),
        keystore: resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()}),
        ...(flags['compile-key-agent'] === undefined ? {} : {compileKeyAgent: flags['compile-key-agent']}),
        receiptKeyAgent: flags['receipt-key-agent'],
        ...(flags['contract-key'] === undefined ? {} : {contractKey: flags['contract-key']}),
        interactive: flags.interactive,
        acceptLowConfidence: flags['accept-low-confidence'],
        redoDecisions: flags['redo-decisions'],
        ...(decide.size === 0 ? {} : {decide}),
        env: lifecycleEnv(flags.deterministic),
        ...(flags.interactive ? {prompt: withApplyToRemaining(piped ?? inquirerPrompt(promptOut), promptOut)} : {}),
      })
      if (flags.interactive && !this.jsonEnabled()) process.stdout.write('\n')
      // "ratified" is every kept rule (the receipt's ratified_rule_ids); how many of them enforce is
      // what a promote will act on, so it is said too.
      const enforced = r.ratifiedRuleIds.filter((id) => r.decisions[id] === 'enforce').length
      this.out(`ratify: ${r.ratifiedRuleIds.length} rules ratified (${enforced} enforce, ${r.ratifiedRuleIds.length - enforced} capture-only), ${r.rejectedRuleIds.length} rejected, written to ${r.dest}`)
      for (const w of r.warnings) this.err(`WARNING: ${w}`)
      this.err(
        auditLine(
          {
            event: 'learn_ratify',
            candidate: r.candidate,
            dest: r.dest,
            output: r.receiptFile,
            signer_key_id: r.receiptKeyId,
            rules_ratified: r.ratifiedRuleIds.length,
            rules_rejected: r.rejectedRuleIds.length,
            receipts_emitted: 1,
          },
          false,
        ),
      )
      return r
    } catch (err) {
      if (isPromptInterrupt(err)) throw new PipelockError('RATIFY_INTERRUPTED', 'learn ratify: stopped at the prompt; nothing was written')
      throw err
    } finally {
      piped?.close()
    }
  }
}
