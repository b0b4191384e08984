import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {loadStore, renderTrustList, storeLocation, type TrustRecord} from '../../../plugins/envelope/index.js'

export default class EnvelopeTrustList extends BaseCommand {
  static override summary = 'List the mediation-envelope trust store'
  static override description = `Prints TRUST_DOMAIN, SPIFFE_ID, KEY (12 hex ... last 4), SOURCE and ADDED_AT (UTC, seconds), "-" for an empty cell; the header is printed even for an empty store. --json prints the records as stored (null when there is no store file yet, as the reference does).`
  static override examples = [
    {description: 'Show trusted peers', command: '<%= config.bin %> envelope trust list'},
    {description: 'As JSON, from a given store', command: '<%= config.bin %> envelope trust list --json --store ./trust.json'},
  ]
  static override enableJsonFlag = true
  static override flags = {store: Flags.string({description: 'trust store file (default $XDG_STATE_HOME/pipelock/envelope/trust.json)'})}

  async run(): Promise<TrustRecord[] | undefined> {
    const {flags} = await this.parse(EnvelopeTrustList)
    const loc = storeLocation(flags.store, process.env, homedir())
    const records = loadStore(loc.file, loc.root)
    // E24 (replicated): no store file is JSON null (oclif prints nothing for a null result).
    if (records === null && this.jsonEnabled()) {
      process.stdout.write('null\n')
      return undefined
    }
    for (const l of renderTrustList(records ?? [])) this.out(l)
    return records ?? []
  }
}
