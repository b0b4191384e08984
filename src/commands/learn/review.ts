import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {runLearnReview, type ReviewResult} from '../../plugins/learn/index.js'

export default class LearnReview extends BaseCommand {
  static override summary = 'Render the review of a candidate contract (markdown or a self-contained HTML page)'
  static override description = `Loads the candidate strictly (anchors, aliases, tags, duplicate and unknown keys are refused) and renders the review from the contract alone: lifecycle and confidence counts, capture fidelity, thin-sample badges and opportunity health (against the contract's own confidence floors). The action-class histogram and tail coverage live only in the review written by learn compile. The signature is not verified here. Output goes to stdout, or atomically to --out.`

  static override examples = [
    '<%= config.bin %> learn review /tmp/my-agent.candidate.yaml',
    '<%= config.bin %> learn review /tmp/my-agent.candidate.yaml --format html --out /tmp/review.html',
  ]

  static override enableJsonFlag = true

  static override args = {
    candidate: Args.string({description: 'candidate contract file', required: true}),
  }

  static override flags = {
    out: Flags.string({description: 'write the review to this file instead of stdout'}),
    format: Flags.string({description: 'output format', options: ['md', 'html'], default: 'md'}),
  }

  async run(): Promise<ReviewResult> {
    const {args, flags} = await this.parse(LearnReview)
    refuseFlagOutputs(flags, ['out'], [], [{flag: 'CANDIDATE', path: args.candidate}])
    const r = runLearnReview({candidate: args.candidate, ...(flags.out === undefined ? {} : {out: flags.out}), format: flags.format as 'md' | 'html'})
    if (r.dest === undefined && !this.jsonEnabled()) process.stdout.write(r.content)
    else if (r.dest !== undefined) this.out(`review: written to ${r.dest}`)
    const audit: Record<string, unknown> = {event: 'learn_review', candidate: path.resolve(r.candidate)}
    if (r.dest !== undefined) audit.dest = r.dest
    audit.noop = false
    this.err(JSON.stringify(audit))
    return r
  }
}
