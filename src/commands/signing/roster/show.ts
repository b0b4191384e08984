import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {prefixedFailure} from '../../../cli/error-output.js'
import {goJsonIndent, toPlain} from '../../../plugins/canonical/index.js'
import {loadRoster, rosterBodyTree} from '../../../plugins/signing/index.js'

export default class SigningRosterShow extends BaseCommand {
  static override summary = 'Verify a signed key roster and print its body'
  static override description = 'Loads the roster exactly like "signing roster verify" and prints the body as 2-space indented JSON.'
  static override examples = [
    '<%= config.bin %> signing roster show --path /tmp/keys/roster.json --root-fingerprint sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9',
  ]

  static override enableJsonFlag = true

  static override flags = {
    path: Flags.string({description: 'roster file (.json, .yaml or .yml)', required: true}),
    'root-fingerprint': Flags.string({description: 'pinned roster-root fingerprint (sha256:<64 hex>)', required: true}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(SigningRosterShow)
    let r
    try {
      r = loadRoster(flags.path, flags['root-fingerprint'], {flag: '--path'})
    } catch (e) {
      // one line (the reference printed this one, then the error again, unsanitised)
      throw prefixedFailure('load failed: ', e)
    }
    const tree = rosterBodyTree(r.body)
    this.out(goJsonIndent(tree, '', '  '))
    return toPlain(tree)
  }
}
