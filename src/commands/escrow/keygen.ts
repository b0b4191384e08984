import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {escrowKeygen, type EscrowKeygenResult} from '../../plugins/recorder/index.js'

export default class EscrowKeygen extends BaseCommand {
  static override summary = 'Create an X25519 key pair for flight_recorder.escrow_public_key'
  static override description = `Prints "public: <64 hex>" — the value for flight_recorder.escrow_public_key — and writes the private key (64 hex chars and a newline, mode 0600) to --out-private, never overwriting a file ("-" is refused: the private key never goes to stdout). Without --out-private the private key goes to stderr with a warning (with --json too: the JSON on stdout never holds it). Keep it offline: whoever holds it can read every escrowed, unredacted detail (pipelock escrow decrypt).`

  static override examples = [
    {description: 'A key pair, the private half in escrow.key', command: '<%= config.bin %> escrow keygen --out-private escrow.key'},
    {description: 'The same as JSON', command: '<%= config.bin %> escrow keygen --out-private escrow.key --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    'out-private': Flags.string({description: 'file for the private key (created with mode 0600; must not exist; not -, stdout)'}),
  }

  async run(): Promise<Omit<EscrowKeygenResult, 'privateKey'>> {
    const {flags} = await this.parse(EscrowKeygen)
    // `-` is stdout elsewhere (escrow decrypt --out -); the private key never goes there, and a
    // file named `-` is what a script meaning stdout would least expect.
    if (flags['out-private'] === '-') {
      throw new PipelockError('USAGE', '--out-private -: the private key is never written to stdout', {hint: 'name a file for it, or leave --out-private out to get it on stderr'})
    }
    const {privateKey, ...shown} = escrowKeygen(flags['out-private'])
    this.out(`public: ${shown.publicKey}`)
    // The private half never reaches stdout, --json included: stdout is what scripts keep and log.
    if (privateKey !== undefined) {
      this.err('WARNING: store this key offline')
      this.err(`private: ${privateKey}`)
    }
    return shown
  }
}
