import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {prefixedFailure} from '../../../cli/error-output.js'
import {parseGoTime, systemClock, toEpochNanos} from '../../../plugins/canonical/index.js'
import {PipelockError} from '../../../plugins/errors/index.js'
import {
  fingerprint,
  goQuoteVerb,
  hexPublicKeyFromFlags,
  inspectRecoveryAuthorization,
  loadRecoveryAuthorization,
  type RecoveryAuthorization,
} from '../../../plugins/signing/index.js'

export interface RecoveryVerifyJson {
  fingerprint: string
  target_verified: boolean
  body: RecoveryAuthorization
}

export default class SigningRecoveryVerify extends BaseCommand {
  static override summary = 'Verify a break-glass recovery authorisation'
  static override description = `Checks the document's shape, its time window (at most 1 hour, valid now), the recovery-root fingerprint pin and the signature. Without --expected-target-roster-hash the binding to a roster is NOT checked (offline inspection); runtime callers must pass it.`

  static override examples = [
    '<%= config.bin %> signing recovery verify --path recovery.json --pinned-fingerprint sha256:39f713d0a644253f04529421b9f51b9b08979d08295959c4f3990ee617f5139f --recovery-pubkey 3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
  ]

  static override enableJsonFlag = true

  static override flags = {
    path: Flags.string({description: 'recovery authorisation (.json, .yaml or .yml)', required: true}),
    'pinned-fingerprint': Flags.string({description: 'pinned recovery-root fingerprint (sha256:<64 hex>)', required: true}),
    'recovery-pubkey': Flags.string({description: 'recovery-root public key, 64 hex'}),
    'recovery-pubkey-file': Flags.string({description: 'file holding the recovery-root public key as 64 hex (≤ 4096 bytes)'}),
    'expected-target-roster-hash': Flags.string({description: 'roster hash the authorisation must be bound to (sha256:<64 hex>)'}),
    now: Flags.string({description: 'evaluate the time window at this RFC 3339 instant instead of the clock (audits, rehearsals)'}),
  }

  async run(): Promise<RecoveryVerifyJson> {
    const {flags} = await this.parse(SigningRecoveryVerify)
    const key = hexPublicKeyFromFlags('recovery-pubkey', flags['recovery-pubkey'], flags['recovery-pubkey-file'])
    this.out(`loaded recovery-root: fingerprint=${fingerprint(key)}`)
    const nowNanos = flags.now === undefined ? systemClock.nowNanos() : nowFlag(flags.now)
    const common = {recoveryPublicKey: key, pinnedFingerprint: flags['pinned-fingerprint'], nowNanos}
    const expected = flags['expected-target-roster-hash']
    let r
    try {
      r =
        expected === undefined
          ? inspectRecoveryAuthorization(flags.path, common)
          : loadRecoveryAuthorization(flags.path, {...common, expectedTargetRosterHash: expected})
    } catch (e) {
      // one line (the reference printed this one, then the error again, unsanitised)
      throw prefixedFailure('verify failed: ', e)
    }
    const b = r.body
    this.out(`recovery authorization verified: reason=${goQuoteVerb(b.reason)}, expires_at=${b.expiresAt}, operator=${goQuoteVerb(b.operatorIdentity)}`)
    if (!r.targetVerified) {
      this.out('NOTE: target_roster_hash binding NOT verified (offline mode). Runtime callers MUST pass --expected-target-roster-hash.')
    }
    return {fingerprint: r.fingerprint, target_verified: r.targetVerified, body: b}
  }
}

function nowFlag(s: string): bigint {
  try {
    return toEpochNanos(parseGoTime(s))
  } catch (e) {
    throw new PipelockError('USAGE', `--now: ${(e as Error).message}`)
  }
}
