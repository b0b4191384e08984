import {homedir} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {parseTarget, storeLocation, updateStore} from '../../../plugins/envelope/index.js'
import {PipelockError} from '../../../plugins/errors/index.js'

export default class EnvelopeTrustRemove extends BaseCommand {
  static override summary = 'Remove a trust domain or SPIFFE ID from the mediation-envelope trust store'
  static override description = `Removes the record of exactly that target (a domain record or a SPIFFE ID record) and prints "removed<TAB><target>". Exit 2 when it is not present.`
  static override examples = [{description: 'Stop trusting a partner', command: '<%= config.bin %> envelope trust remove partner.example'}]
  static override enableJsonFlag = true
  static override args = {target: Args.string({description: 'SPIFFE ID or trust domain', required: true})}
  static override flags = {store: Flags.string({description: 'trust store file (default $XDG_STATE_HOME/pipelock/envelope/trust.json)'})}

  async run(): Promise<{status: 'removed'; target: string}> {
    const {args, flags} = await this.parse(EnvelopeTrustRemove)
    const loc = storeLocation(flags.store, process.env, homedir())
    const t = parseTarget(args.target)
    updateStore(loc.file, loc.root, (records) => {
      const kept = records.filter((r) => !(r.trust_domain === t.trust_domain && (r.spiffe_id ?? '') === (t.spiffe_id ?? '')))
      if (kept.length === records.length) throw new PipelockError('ENVELOPE_TRUST_INVALID', `trust target "${args.target}" is not present`)
      return {records: kept, result: undefined}
    })
    const shown = t.spiffe_id ?? t.trust_domain
    this.out(`removed\t${shown}`)
    return {status: 'removed', target: shown}
  }
}
