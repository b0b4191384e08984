import {existsSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputFile} from '../../cli/output-file.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {decryptEscrow, type EscrowDecryptResult} from '../../plugins/recorder/index.js'

export default class EscrowDecrypt extends BaseCommand {
  static override summary = 'Decrypt a raw-escrow sidecar (.raw.enc) with the escrow private key'
  static override description = `With flight_recorder.raw_escrow, the recorder seals the unredacted detail of every entry to the configured X25519 public key in evidence-<session>-<seq>.raw.enc beside the evidence, and names the file in the entry's raw_ref. This command is for the holder of the matching private key (pipelock escrow keygen): it prints the plaintext (the detail as JSON) on stdout, or writes it to --out. With --verify-entry, it finds the entry naming the sidecar in a recorder file and says whether the plaintext is exactly the detail that entry hashes (an entry that was not redacted), or that the entry was redacted and no byte-for-byte check is possible.`

  static override examples = [
    {description: 'Print the unredacted detail of entry 12', command: '<%= config.bin %> escrow decrypt --key escrow.key /var/lib/pipelock/recorder/evidence-proxy-12.raw.enc'},
    {description: 'Check it against the recorder file that references it, as JSON', command: '<%= config.bin %> escrow decrypt --key escrow.key --verify-entry /var/lib/pipelock/recorder/evidence-proxy-0.jsonl /var/lib/pipelock/recorder/evidence-proxy-12.raw.enc --json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    file: Args.string({description: 'the .raw.enc sidecar', required: true}),
  }

  static override flags = {
    key: Flags.string({description: 'escrow private key: 64 hex chars, or a file holding them', required: true}),
    out: Flags.string({description: 'write the plaintext to this new file (mode 0600) instead of stdout ("-" = stdout); an existing file is refused without --force'}),
    force: Flags.boolean({description: 'with --out: replace an existing file (the new one is written 0600 and renamed over it)', default: false}),
    'verify-entry': Flags.string({description: 'recorder .jsonl file holding the entry whose raw_ref names this sidecar'}),
  }

  async run(): Promise<EscrowDecryptResult> {
    const {args, flags} = await this.parse(EscrowDecrypt)
    const out = flags.out
    // Unredacted secrets: never into a file that is already there (with its own, perhaps wider, mode).
    if (out !== undefined && out !== '-' && !flags.force && existsSync(out)) {
      throw new PipelockError('FILE_EXISTS', `--out ${out} already exists`, {hint: 'choose a new file, or pass --force to replace it'})
    }
    const r = await decryptEscrow({file: args.file, key: flags.key, ...(flags['verify-entry'] === undefined ? {} : {verifyEntry: flags['verify-entry']})})
    if (out !== undefined && out !== '-') {
      writeOutputFile(out, r.plaintext, 0o600)
      this.out(`wrote ${r.bytes} bytes to ${out}`)
    } else if (!this.jsonEnabled()) {
      process.stdout.write(r.plaintext.endsWith('\n') ? r.plaintext : r.plaintext + '\n')
    }
    if (r.binding !== undefined) this.err(r.binding.message)
    return r
  }
}
