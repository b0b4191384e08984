import {homedir} from 'node:os'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {addRecord, checkKeySource, fetchDirectoryKey, parseTarget, rfc3339Now, storeLocation, updateStore, type TrustRecord} from '../../../plugins/envelope/index.js'
import {PipelockError} from '../../../plugins/errors/index.js'
import {parsePublicKeyValue} from '../../../plugins/signing/index.js'

export const RUNTIME_NOTE = 'note: runtime proxy verification reads trusted keys from pipelock.yaml mediation_envelope.verify_inbound.trust_list; this trust store is for operator workflows until runtime trust-store loading is added.'

export default class EnvelopeTrustAdd extends BaseCommand {
  static override summary = "Trust a peer's mediation-envelope signing key for a trust domain or SPIFFE ID"
  static override description = `Adds a record to the operator trust store: the target is a SPIFFE ID (spiffe://<domain>/<path>, parsed strictly) or a DNS-shaped trust domain; the key is given with --key (64 hex or pipelock-ed25519-public-v1 text) or fetched with --source from a peer's /.well-known/http-message-signatures-directory (https, or http to a loopback host). Prints "trusted<TAB><target>", or "already trusted<TAB><target>" when the same key (and source) is there. A target already trusted with another key or source is refused unless --force is given; then its record is replaced, added_at included, and "replaced<TAB><target>" is printed. The running proxy does not read this store: it verifies with mediation_envelope.verify_inbound.trust_list.

Exit 2 for a bad target, key, source or store.`
  static override examples = [
    {description: 'Trust a partner trust domain with its key', command: '<%= config.bin %> envelope trust add partner.example --key 26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb'},
    {description: "Replace the key of a partner that rotated it", command: '<%= config.bin %> envelope trust add partner.example --key 24db41051f902b5c55e3263279da1d99b8043db7096dcf795641bb9fd80b8659 --force'},
    {description: 'Fetch the key a running peer publishes', command: '<%= config.bin %> envelope trust add spiffe://partner.example/agent/claude --source http://127.0.0.1:8888/.well-known/http-message-signatures-directory'},
  ]
  static override enableJsonFlag = true
  static override args = {target: Args.string({description: 'SPIFFE ID or trust domain', required: true})}
  static override flags = {
    key: Flags.string({description: 'public key: 64 hex characters or pipelock-ed25519-public-v1 text'}),
    source: Flags.string({description: "URL of the peer's key directory"}),
    force: Flags.boolean({description: 'replace the record of a target already trusted with another key or source', default: false}),
    store: Flags.string({description: 'trust store file (default $XDG_STATE_HOME/pipelock/envelope/trust.json)'}),
  }

  async run(): Promise<{status: 'trusted' | 'already trusted' | 'replaced'; target: string; record: TrustRecord}> {
    const {args, flags} = await this.parse(EnvelopeTrustAdd)
    this.err(RUNTIME_NOTE)
    if (flags.key !== undefined && flags.source !== undefined) throw new PipelockError('USAGE', 'use exactly one of --key or --source')
    if (flags.key === undefined && flags.source === undefined) throw new PipelockError('USAGE', 'one of --key or --source is required')
    const target = parseTarget(args.target)
    let keyHex: string
    if (flags.key !== undefined) {
      try {
        keyHex = parsePublicKeyValue(flags.key).hex
      } catch (e) {
        throw new PipelockError('ENVELOPE_TRUST_INVALID', (e as Error).message)
      }
    } else {
      checkKeySource(flags.source!)
      keyHex = (await fetchDirectoryKey(flags.source!)).publicKeyHex
    }
    const loc = storeLocation(flags.store, process.env, homedir())
    const rec: TrustRecord = {...target, key_hex: keyHex, ...(flags.source !== undefined ? {key_source: flags.source} : {}), added_at: rfc3339Now(Date.now())}
    const r = updateStore(loc.file, loc.root, (records) => {
      const added = addRecord(records, rec, flags.force)
      return {...(added.status !== 'already trusted' ? {records: added.records} : {}), result: added}
    })
    const shown = target.spiffe_id ?? target.trust_domain
    const status = r.status
    this.out(`${status}\t${shown}`)
    return {status, target: shown, record: r.records.find((x) => x.trust_domain === target.trust_domain && (x.spiffe_id ?? '') === (target.spiffe_id ?? ''))!}
  }
}
