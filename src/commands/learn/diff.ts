import path from 'node:path'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {refuseFlagOutputs} from '../../cli/output-over-input.js'
import {auditLine, runLearnDiff, type DiffResult} from '../../plugins/learn/index.js'

export default class LearnDiff extends BaseCommand {
  static override summary = 'Compare two shadow.json reports rule by rule'
  static override description = `For every rule id in either report: evaluations, new blocks, new allows and new-block rate of the second report minus the first (a rule only in the first shows negative numbers). Markdown to stdout, or atomically to --out. Both files must be reports written by learn shadow --out-json; any other JSON file (a compile manifest, a replay diff, a contract) is refused, naming it and what it looks like.`

  static override examples = ['<%= config.bin %> learn diff /tmp/shadow-before.json /tmp/shadow-after.json', '<%= config.bin %> learn diff /tmp/a.json /tmp/b.json --out /tmp/diff.md']

  static override enableJsonFlag = true

  static override args = {
    first: Args.string({description: 'first shadow.json', required: true}),
    second: Args.string({description: 'second shadow.json', required: true}),
  }

  static override flags = {
    out: Flags.string({description: 'write the markdown to this file instead of stdout'}),
  }

  async run(): Promise<Omit<DiffResult, 'markdown'>> {
    const {args, flags} = await this.parse(LearnDiff)
    refuseFlagOutputs(flags, ['out'], [], [{flag: 'FIRST', path: args.first}, {flag: 'SECOND', path: args.second}])
    // Relative paths are the working directory's, as for every other path of learn.
    const r = runLearnDiff(path.resolve(args.first), path.resolve(args.second), flags.out === undefined ? undefined : path.resolve(flags.out))
    if (r.dest === undefined && !this.jsonEnabled()) process.stdout.write(r.markdown)
    this.err(auditLine({event: 'learn_diff', candidate: r.inputs[0], inputs: r.inputs, dest: r.dest}, r.rows.length === 0))
    const {markdown: _markdown, ...rest} = r
    return rest
  }
}
