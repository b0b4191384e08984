import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {interruptedNote, listBundles, rulesContext, type ListedBundle} from '../../plugins/rules/index.js'

export default class RulesList extends BaseCommand {
  static override summary = 'List installed community rule bundles'
  static override description = `One line per bundle under rules_dir: name, version, signed or unsigned, and where it was installed from, then when it was last checked. Listing does not verify: use pipelock rules verify.`

  static override examples = [
    {description: 'The bundles of the default rules directory', command: '<%= config.bin %> rules list'},
    {description: 'The bundles a config uses, as JSON', command: '<%= config.bin %> rules list --config pipelock.yaml --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({description: 'config whose rules section (rules_dir) applies'}),
  }

  async run(): Promise<{rulesDir: string; bundles: ListedBundle[]}> {
    const {flags} = await this.parse(RulesList)
    const ctx = rulesContext(flags.config, process.env, process.cwd())
    const bundles = listBundles(ctx.rulesDir)
    if (bundles.length === 0) this.out(`No bundles installed in ${ctx.rulesDir}.`)
    for (const b of bundles) {
      this.out(`${b.name.padEnd(30)} v${b.version.padEnd(14)} ${b.signed ? 'signed' : 'unsigned'}  (${b.source})`)
      if (b.lastCheck !== '') this.out(`  last checked: ${b.lastCheck}`)
      if (b.interrupted === true) this.out(`  ${interruptedNote(b.name)}`)
    }
    return {rulesDir: ctx.rulesDir, bundles}
  }
}
