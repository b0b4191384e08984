import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {prefixedFailure} from '../../../cli/error-output.js'
import {fingerprint, hexPublicKeyFromFlags, loadRootTransition, type RootTransition} from '../../../plugins/signing/index.js'

export interface TransitionVerifyJson {
  old_fingerprint: string
  new_fingerprint: string
  body: RootTransition
}

export default class SigningTransitionVerify extends BaseCommand {
  static override summary = 'Verify a root key transition signed by both the old and the new root key'
  static override description = `Checks both fingerprints against the given keys, the optional operator pin (must be the old fingerprint) and both signatures over the same body. Updating the pinned fingerprint afterwards is up to the operator.`

  static override examples = [
    '<%= config.bin %> signing transition verify --path transition.json --old-pubkey d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a --new-pubkey 2756790e333460a65bde23c44cdb9eadcb144faca6d04de234104d2bdb0d884b --pinned sha256:21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9',
    '<%= config.bin %> signing transition verify --path transition.json --old-pubkey-file old-root.pub --new-pubkey-file new-root.hex',
  ]

  static override enableJsonFlag = true

  static override flags = {
    path: Flags.string({description: 'root transition document (.json, .yaml or .yml)', required: true}),
    'old-pubkey': Flags.string({description: 'old root public key, 64 hex'}),
    'old-pubkey-file': Flags.string({description: "file holding the old root public key: 64 hex, or a pipelock-ed25519-public-v1 file (keygen's .pub)"}),
    'new-pubkey': Flags.string({description: 'new root public key, 64 hex'}),
    'new-pubkey-file': Flags.string({description: "file holding the new root public key: 64 hex, or a pipelock-ed25519-public-v1 file (keygen's .pub)"}),
    pinned: Flags.string({description: 'currently pinned fingerprint; must equal the old fingerprint'}),
  }

  async run(): Promise<TransitionVerifyJson> {
    const {flags} = await this.parse(SigningTransitionVerify)
    const oldKey = hexPublicKeyFromFlags('old-pubkey', flags['old-pubkey'], flags['old-pubkey-file'], {acceptKeyText: true})
    const newKey = hexPublicKeyFromFlags('new-pubkey', flags['new-pubkey'], flags['new-pubkey-file'], {acceptKeyText: true})
    this.out(`loaded transition keys: old_fingerprint=${fingerprint(oldKey)}, new_fingerprint=${fingerprint(newKey)}`)
    let r
    try {
      r = loadRootTransition(flags.path, {oldPublicKey: oldKey, newPublicKey: newKey, pinned: flags.pinned})
    } catch (e) {
      // one line (the reference printed this one, then the error again, unsanitised)
      throw prefixedFailure('verify failed: ', e)
    }
    const b = r.body
    this.out(`transition verified: kind=${b.rootKind}, old=${b.oldFingerprint}, new=${b.newFingerprint}, effective_at=${b.effectiveAt}`)
    return {old_fingerprint: r.oldFingerprint, new_fingerprint: r.newFingerprint, body: b}
  }
}
