import {Args} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {chainFlags, chainRequest, evidenceKeyFlags} from '../cli/evidence-flags.js'
import {withStdinChain} from '../cli/stdin-input.js'
import {verifyingWork} from '../cli/verify-work.js'
import {transcriptRoot, unusedKeyWarnings, type TranscriptRootReport} from '../plugins/audit/index.js'
import {printable} from '../plugins/errors/index.js'
import {displayTime} from '../plugins/receipts/index.js'

export default class TranscriptRoot extends BaseCommand {
  static override summary = 'Verify a receipt chain against a pinned key and print its transcript root'
  static override description = `The transcript root is the hash of the last receipt of a verified chain: publish it (a ticket, a transparency log) and any later copy of the chain can be checked against it offline.

The chain is verified first, exactly as verify-receipt does (a .jsonl file or a recorder directory). A v1 chain prints the reference block; a v2 evidence chain prints the same block for its own root. --key (or --roster with --roster-root-fingerprint) is required; a named --key that no receipt used (a mistyped ID) is a warning on stderr and is listed in --json as unusedKeys. Exit status: 0 with a root, 1 when the chain does not verify or holds no chained receipt, 4 when it holds a receipt this version cannot verify (an unknown critical extension): no root is stated.`

  static override examples = [
    {description: 'Root of a recorder file, pinned to the receipt key', command: '<%= config.bin %> transcript-root evidence-proxy-0.jsonl --key receipt.pub'},
    {description: 'Root of a recorder directory, as JSON', command: '<%= config.bin %> transcript-root --chain /var/lib/pipelock/recorder --key receipt.pub --json'},
    {description: 'Root of a recorder file across a receipt key rotation, pinned to the original key', command: '<%= config.bin %> transcript-root evidence-proxy-0.jsonl --key old.pub --rotation-endorsement rotation-1.json'},
  ]

  static override enableJsonFlag = true

  static override args = {
    file: Args.string({description: 'chain file (.jsonl) or recorder directory; - reads the chain from stdin (at most 16 MiB)', required: false}),
  }

  static override flags = {
    ...evidenceKeyFlags,
    ...chainFlags,
  }

  async run(): Promise<TranscriptRootReport> {
    const {args, flags, metadata} = await this.parse(TranscriptRoot)
    // `-`: the chain from stdin, verified from a private copy and named `-`
    const r = await withStdinChain(args.file, async (file, shownAs) => await verifyingWork(this.jsonEnabled(), (onProgress) => transcriptRoot({...chainRequest(file, flags, metadata), ...(shownAs === undefined ? {} : {shownAs}), onProgress})))
    // a key given by name that no receipt used: the root rests on other keys (a mistyped id)
    const unused = unusedKeyWarnings(r.unusedKeys, flags.roster !== undefined)
    if (!r.valid) {
      const f = r.verification.failure
      // Evidence without a receipt to root is no verification failure: it carries its code, as
      // every failure line does (docs/errors.md).
      const empty = f === undefined && r.notVerifiable !== true
      this.err(printable(f === undefined ? `${r.error as string}${empty ? ' [CHAIN_EMPTY]' : ''}` : `chain verification failed${f.file === undefined || f.extraction !== undefined ? '' : ` at ${f.file}:${f.line}`}: ${f.message}`))
      for (const w of unused) this.err(printable(w))
      process.exitCode = r.notVerifiable === true ? 4 : 1
      return r
    }
    for (const root of r.roots) {
      this.out(printable(`Transcript Root${root.version === 2 ? ' (v2 evidence chain)' : ''}: ${r.label}`))
      this.out(`  Session:       ${printable(root.session)}`)
      this.out(`  Root hash:     ${root.rootHash}`)
      this.out(`  Receipt count: ${root.receiptCount}`)
      this.out(`  Final seq:     ${root.finalSeq}`)
      this.out(`  Start:         ${displayTime(root.startTime)}`)
      this.out(`  End:           ${displayTime(root.endTime)}`)
    }
    for (const w of r.verification.warnings) this.err(printable(`warning: ${w.file === undefined ? '' : `${w.file}:${w.line}: `}${w.message}`))
    for (const w of unused) this.err(printable(w))
    return r
  }
}
