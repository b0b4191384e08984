import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {systemClock} from '../../../plugins/canonical/index.js'
import {buildRoster} from '../../../plugins/signing/index.js'

export interface RosterBuildJson {
  out: string
  keys: number
  root_signed_by: string
  root_fingerprint: string
  data_class_root: string
}

export default class SigningRosterBuild extends BaseCommand {
  static override summary = 'Build and sign the deployment key roster'
  static override description = `The --root key file (purpose roster-root) is included automatically as the root entry and signs the roster. Each --include is id=<key id>,key=<JSON key file or agent .pub file>,purpose=<purpose>[,status=active|revoked][,role=<principal>]. Every key gets valid_from = now (UTC, seconds) and no expiry. Include a receipt-signing key, every compile key whose contracts will be promoted, and activation keys with role= (their principal).`

  static override examples = [
    '<%= config.bin %> signing roster build --root /tmp/keys/roster-root.json --include id=receipts-1,key=/tmp/keys/receipts.json,purpose=receipt-signing --out /tmp/keys/roster.json',
    '<%= config.bin %> signing roster build --root /tmp/keys/roster-root.json --include id=ops-alice,key=/home/alice/.pipelock/agents/ops-alice/id_ed25519.pub,purpose=contract-activation-signing,role=alice --include id=receipts-1,key=/tmp/keys/receipts.json,purpose=receipt-signing --out /tmp/keys/roster.json --force',
  ]

  static override enableJsonFlag = true

  static override flags = {
    root: Flags.string({description: 'roster-root JSON key file', required: true}),
    include: Flags.string({description: 'key to list (repeatable): id=…,key=…,purpose=…[,status=…][,role=…]', required: true, multiple: true}),
    'data-class': Flags.string({description: 'data_class_root (public, internal, sensitive)', default: 'internal'}),
    'schema-version': Flags.integer({description: 'roster schema version (only 1)', default: 1}),
    out: Flags.string({description: 'path of the roster JSON to write (a relative path is resolved against the working directory)', required: true}),
    force: Flags.boolean({description: 'overwrite an existing roster file', default: false}),
  }

  async run(): Promise<RosterBuildJson> {
    const {flags} = await this.parse(SigningRosterBuild)
    const r = buildRoster({
      rootKeyPath: flags.root,
      includes: flags.include,
      dataClass: flags['data-class'],
      schemaVersion: flags['schema-version'],
      out: flags.out,
      force: flags.force,
      clock: systemClock,
    })
    this.out('Built signed roster')
    this.out(`  keys:                ${r.keys}`)
    this.out(`  root_signed_by:      ${r.rootSignedBy}`)
    this.out(`  root_fingerprint:    ${r.rootFingerprint}`)
    this.out(`  data_class_root:     ${r.dataClassRoot}`)
    this.out(`  out:                 ${r.out}`)
    return {out: r.out, keys: r.keys, root_signed_by: r.rootSignedBy, root_fingerprint: r.rootFingerprint, data_class_root: r.dataClassRoot}
  }
}
