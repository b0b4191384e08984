import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {systemClock} from '../../../plugins/canonical/index.js'
import {generateKeyFile, KEY_PURPOSES, type GeneratedKeyFile} from '../../../plugins/signing/index.js'

export default class SigningKeyGenerate extends BaseCommand {
  static override summary = 'Generate a deployment key file for one key purpose'
  static override description = `Writes a JSON key file (0600, atomic) holding the public and private key. Purposes: ${KEY_PURPOSES.join(', ')}. The fingerprint printed for a roster-root key is the value to pin (--root-fingerprint).`

  static override examples = [
    '<%= config.bin %> signing key generate --purpose roster-root --out /tmp/keys/roster-root.json',
    '<%= config.bin %> signing key generate --purpose receipt-signing --id receipts-1 --out /tmp/keys/receipts.json',
  ]

  static override enableJsonFlag = true

  static override flags = {
    purpose: Flags.string({description: 'key purpose', required: true}),
    out: Flags.string({description: 'path of the key file to write (a relative path is resolved against the working directory)', required: true}),
    id: Flags.string({description: 'key id: 1 to 64 of A-Z a-z 0-9 . _ - (default <purpose>-<first 8 hex of the fingerprint>)'}),
    force: Flags.boolean({description: 'overwrite an existing file', default: false}),
  }

  async run(): Promise<GeneratedKeyFile> {
    const {flags} = await this.parse(SigningKeyGenerate)
    const r = generateKeyFile({purpose: flags.purpose, out: flags.out, id: flags.id, force: flags.force, clock: systemClock})
    this.out(`Generated ${r.purpose} keypair`)
    this.out(`  key_id:      ${r.keyId}`)
    this.out(`  fingerprint: ${r.fingerprint}`)
    this.out(`  out:         ${r.out}`)
    return r
  }
}
