import path from 'node:path'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {loadConfig} from '../../../plugins/config/index.js'
import {PipelockError} from '../../../plugins/errors/index.js'
import {readStoreHistory, renderStoreHistory, storeHistoryJson} from '../../../plugins/store/index.js'

export default class LearnStoreHistory extends BaseCommand {
  static override summary = "List a contract store's generations: each accepted manifest, who signed it, what it activates"
  static override description = `Reads <store>/manifests/ (every accepted manifest, write-once) and <store>/.activation_journal.jsonl and prints, oldest first, one block per generation: its manifest hash, the prior manifest hash it extends, promote or rollback (and to which generation), when it was signed and accepted, who signed it (key id and principal), its environment, and each selector with the contract it activates. The generation in active.json is marked (active). Rejected swaps from the journal follow, then any disagreement between the journal, manifests/ and active.json (a deleted active.json in a store that has accepted generations is named as pipelock run names it when it refuses the store).

This lists; it does not verify signatures against a roster (learn promote, learn rollback and pipelock run do, whenever a manifest becomes active). --json prints the same as an object.`

  // Runnable after the set-up of docs/learn-and-lock.md ("Walk-through"), which defines W.
  static override examples = [
    {description: 'Every generation of the walk-through store, oldest first', command: '<%= config.bin %> learn store history --store "$W/store"'},
    {description: 'The same as JSON, e.g. to pick the hash of generation 1 for learn rollback --to', command: `<%= config.bin %> learn store history --store "$W/store" --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).generations[0].manifest_hash))'`},
    {description: "The store named by a config's learn_lock.store_dir", command: '<%= config.bin %> learn store history --config /etc/pipelock/pipelock.yaml'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    store: Flags.string({description: 'contract store root (as --contract-store of learn promote)', aliases: ['contract-store']}),
    config: Flags.string({description: 'pipelock config whose learn_lock.store_dir names the store (when --store is not given)'}),
  }

  async run(): Promise<Record<string, unknown>> {
    const {flags} = await this.parse(LearnStoreHistory)
    let store = flags.store
    if (store === undefined && flags.config !== undefined) {
      const dir = loadConfig(flags.config).config.learn_lock.store_dir
      if (dir === '') throw new PipelockError('USAGE', `learn store history: ${flags.config} sets no learn_lock.store_dir`, {hint: 'pass --store DIR'})
      store = dir
    }
    if (store === undefined) throw new PipelockError('USAGE', 'learn store history: --store DIR is required (or --config with learn_lock.store_dir)')
    const h = readStoreHistory(path.resolve(store))
    this.out(renderStoreHistory(h).replace(/\n$/, ''))
    return storeHistoryJson(h)
  }
}
