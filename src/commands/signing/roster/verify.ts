import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {prefixedFailure} from '../../../cli/error-output.js'
import {goQuoteVerb, loadRoster} from '../../../plugins/signing/index.js'

export interface RosterVerifyJson {
  path: string
  keys: number
  root_signed_by: string
  root_fingerprint: string
}

export default class SigningRosterVerify extends BaseCommand {
  static override summary = 'Verify a signed key roster against the pinned root fingerprint'
  static override description = 'Runs the full roster load: strict decode, body checks, root entry, fingerprint pin, signature. Exit 1 on any failure.'
  static override examples = [
    '<%= config.bin %> signing roster verify --path /tmp/keys/roster.json --root-fingerprint sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9',
  ]

  static override enableJsonFlag = true

  static override flags = {
    path: Flags.string({description: 'roster file (.json, .yaml or .yml)', required: true}),
    'root-fingerprint': Flags.string({description: 'pinned roster-root fingerprint (sha256:<64 hex>)', required: true}),
  }

  async run(): Promise<RosterVerifyJson> {
    const {flags} = await this.parse(SigningRosterVerify)
    let r
    try {
      r = loadRoster(flags.path, flags['root-fingerprint'], {flag: '--path'})
    } catch (e) {
      // one line (the reference printed this one, then the error again, unsanitised)
      throw prefixedFailure('verify failed: ', e)
    }
    this.out(`roster verified: ${r.body.keys.length} keys, root_signed_by=${goQuoteVerb(r.rootKeyId)}`)
    return {path: flags.path, keys: r.body.keys.length, root_signed_by: r.rootKeyId, root_fingerprint: flags['root-fingerprint']}
  }
}
