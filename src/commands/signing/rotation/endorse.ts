import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {systemClock} from '../../../plugins/canonical/index.js'
import {endorseRotation, type EndorseRotationResult} from '../../../plugins/recorder/index.js'

export default class SigningRotationEndorse extends BaseCommand {
  static override summary = "Endorse a new flight-recorder receipt key with the retiring one (rotation endorsement)"
  static override description = `Rotating the receipt key of a flight recorder (flight_recorder.signing_key_path): with pipelock run stopped, the retiring key signs a rotation endorsement naming the chain's last receipt (chain_seq and hash, read from the recorder files of --session) and the new key. The file is written as <dir>/rotation-<n>.json (n one past the highest there; mode 0600; never overwritten), where a pipelock run started with the new key finds it: the run then starts a new segment at chain_seq 0 with a key_transition marker. Without it, run refuses a chain signed by another key. --retiring-key must be the key that signed the chain's last receipt; --new-key is the new key's public key (file or 64 hex) or its private key file. Verify across the rotation with the original key and the endorsement: pipelock verify-receipt --chain DIR --key OLD.pub --rotation-endorsement DIR/rotation-1.json.`

  static override examples = [
    {
      description: 'Hand the chain in /var/lib/pipelock/evidence over from receipt.key to receipt-2 (made with pipelock keygen receipt-2)',
      command:
        '<%= config.bin %> signing rotation endorse --dir /var/lib/pipelock/evidence --retiring-key /etc/pipelock/receipt.key --new-key ~/.pipelock/agents/receipt-2/id_ed25519.pub',
    },
    {
      description: 'The same from the new private key file, as JSON',
      command: '<%= config.bin %> signing rotation endorse --dir /var/lib/pipelock/evidence --retiring-key /etc/pipelock/receipt.key --new-key ~/.pipelock/agents/receipt-2/id_ed25519 --json',
    },
  ]

  static override enableJsonFlag = true

  static override flags = {
    dir: Flags.string({description: 'flight recorder directory (flight_recorder.dir) holding the chain', required: true}),
    session: Flags.string({description: 'recorder session id of the chain', default: 'proxy'}),
    'retiring-key': Flags.string({description: 'private key file (pipelock-ed25519-private-v1) that signed the chain so far', required: true}),
    'new-key': Flags.string({description: 'the new key: public key file (pipelock-ed25519-public-v1 or hex), 64 hex chars, or its private key file', required: true}),
    out: Flags.string({description: 'file to write (default <dir>/rotation-<n>.json, where pipelock run looks); never overwritten'}),
  }

  async run(): Promise<EndorseRotationResult> {
    const {flags} = await this.parse(SigningRotationEndorse)
    const r = await endorseRotation({dir: flags.dir, session: flags.session, retiringKeyFile: flags['retiring-key'], newKey: flags['new-key'], out: flags.out, clock: systemClock})
    this.out(`Wrote rotation endorsement ${r.file}`)
    this.out(`  session:          ${r.session_id}`)
    this.out(`  prior_signer_key: ${r.prior_signer_key}`)
    this.out(`  prior_final_seq:  ${r.prior_final_seq}`)
    this.out(`  prior_tail_hash:  ${r.prior_tail_hash}`)
    this.out(`  new_signer_key:   ${r.new_signer_key}`)
    this.out(`  rotated_at:       ${r.rotated_at}`)
    if (!r.discoverable) this.err(`note: pipelock run looks for endorsements as ${flags.dir}/rotation-<n>.json; copy ${r.file} there before starting it with the new key`)
    else this.out('Next: set flight_recorder.signing_key_path to the new key and start pipelock run.')
    return r
  }
}
