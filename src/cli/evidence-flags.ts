import {Flags} from '@oclif/core'
import type {KeyRingRequest, VerifyEvidenceRequest} from '../plugins/audit/index.js'

// The key flags every evidence command shares (verify-receipt, transcript-root, audit packet,
// audit report): one description, one mapping onto the audit plugin's key ring request.

export const evidenceKeyFlags = {
  key: Flags.string({
    description: 'trusted signer public key: file path (pipelock-ed25519-public-v1 or hex) or 64 hex chars; ID=KEY names the key of v2 signer_key_id ID (repeatable)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  roster: Flags.string({description: 'signed key roster (.json/.yaml) naming every v2 signer key and its purpose; needs --roster-root-fingerprint; not with an unnamed --key (name it: --key ID=KEY)'}),
  'roster-root-fingerprint': Flags.string({description: 'pinned sha256:<hex> fingerprint of the roster root key'}),
}

export function keyRingRequest(flags: {key?: string[]; roster?: string; 'roster-root-fingerprint'?: string}): KeyRingRequest {
  return {keys: flags.key, roster: flags.roster, rosterRootFingerprint: flags['roster-root-fingerprint']}
}

/**
 * Rotation endorsements, for every command that verifies a chain (verify-receipt,
 * transcript-root, audit packet build and verify, audit report). A recorder directory's own
 * `rotation-<n>.json` are found without the flag.
 */
export const rotationEndorsementFlags = {
  'rotation-endorsement': Flags.string({
    description: 'rotation endorsement file authorising a receipt key change (repeatable); each one named must match a key change of the evidence. A recorder directory\'s own rotation-<n>.json are used without it',
    multiple: true,
    multipleNonGreedy: true,
  }),
}

export function endorsementRequest(flags: {'rotation-endorsement'?: string[]}): {rotationEndorsements?: string[]} {
  return flags['rotation-endorsement'] === undefined ? {} : {rotationEndorsements: flags['rotation-endorsement']}
}

/**
 * Entries after the last verified checkpoint signature (or all of them, with none) are a warning
 * by default, as the reference verdict has it; this turns them into a failure. For verify-receipt,
 * audit report and audit packet verify.
 */
export const signedCheckpointFlags = {
  'require-signed-checkpoints': Flags.boolean({
    description: 'fail (verdict invalid, exit 1) when a recorder entry is not covered by a verified checkpoint signature: the entries after the last signed checkpoint, or all of them when none is signed (without it, a warning)',
    default: false,
  }),
}

export function signedCheckpointRequest(flags: {'require-signed-checkpoints'?: boolean}): {requireSignedCheckpoints?: boolean} {
  return flags['require-signed-checkpoints'] === true ? {requireSignedCheckpoints: true} : {}
}

/** The evidence a packet or report is built from. */
export const evidenceSourceFlags = {
  chain: Flags.string({description: 'evidence: a .jsonl file or a recorder directory', required: true}),
  session: Flags.string({description: 'recorder session id', default: 'proxy'}),
  ...rotationEndorsementFlags,
}

/** verify-receipt / transcript-root: a recorder directory instead of the file argument, and rotations. */
export const chainFlags = {
  chain: Flags.string({description: 'directory of flight-recorder files to verify as one chain'}),
  session: Flags.string({description: 'recorder session id: the files read from a directory; a .jsonl file must hold that session\'s entries (checked only when given); rotation endorsements', default: 'proxy'}),
  ...rotationEndorsementFlags,
}

/**
 * The verify request of a file argument plus chainFlags and the key flags. `--session` is passed
 * only when given (oclif's parse metadata): a .jsonl file is then checked to be that session's.
 */
export function chainRequest(
  file: string | undefined,
  flags: {chain?: string; session: string; 'rotation-endorsement'?: string[]; key?: string[]; roster?: string; 'roster-root-fingerprint'?: string; 'require-signed-checkpoints'?: boolean},
  metadata: {flags: {session?: {setFromDefault?: boolean}}},
): VerifyEvidenceRequest {
  return {file, ...keyRingRequest(flags), chainDir: flags.chain, ...givenSession(flags, metadata), ...endorsementRequest(flags), ...signedCheckpointRequest(flags)}
}

/**
 * `{session}` when `--session` was given, `{}` when it holds its default: a directory then reads
 * the default session's files, and a .jsonl file is not required to be `proxy`'s (oclif's parse
 * metadata says which).
 */
export function givenSession(flags: {session: string}, metadata: {flags: {session?: {setFromDefault?: boolean}}}): {session?: string} {
  return metadata.flags.session?.setFromDefault === true ? {} : {session: flags.session}
}
