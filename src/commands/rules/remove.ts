import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {removeBundle, rulesContext} from '../../plugins/rules/index.js'

export default class RulesRemove extends BaseCommand {
  static override summary = 'Remove an installed rule bundle'
  static override description = `Deletes <rules_dir>/<name>/. Its rules stop applying at the next start or config reload of pipelock run.`

  static override examples = [
    {description: 'Remove the acme-rules bundle', command: '<%= config.bin %> rules remove acme-rules --config pipelock.yaml'},
  ]

  static override enableJsonFlag = true

  static override args = {
    name: Args.string({description: 'bundle name', required: true}),
  }

  static override flags = {
    config: Flags.string({description: 'config whose rules section (rules_dir) applies'}),
  }

  async run(): Promise<{removed: string}> {
    const {args, flags} = await this.parse(RulesRemove)
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    removeBundle(ctx.rulesDir, args.name)
    this.out(`Removed ${args.name}`)
    return {removed: args.name}
  }
}
