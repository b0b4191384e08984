import {readdir, stat} from 'node:fs/promises'
import path from 'node:path'
import {JsonSyntaxError, parseStrictJson} from '../canonical/index.js'
import {PipelockError} from '../errors/index.js'
import {refuseSpecialFile} from '../signing/index.js'
import {
  EndorsementError,
  evidenceFileReport,
  loadEndorsements,
  MAX_RECEIPT_FILE_BYTES,
  osErrorText,
  parseEvidenceReceipt,
  readBounded,
  scanChainDir,
  verifyReceiptInput,
  EvidenceParseError,
  EVIDENCE_NO_PUBLIC_KEY,
  type EvidenceReport,
  type RotationEndorsement,
  type VerifyReceiptReport,
} from '../receipts/index.js'
import type {EvidenceSetReport, ReceiptFact} from './evidence-types.js'
import {verifyEvidenceSet} from './evidence-set.js'
import {readRotationFiles} from '../recorder/index.js'
import {KeyRing, type KeyRingRequest} from './key-ring.js'

// `pipelock verify-receipt` (receipts.md §11.1, extended): one receipt file → the single-receipt
// verifier; a `.jsonl` file or a directory → the evidence-set verifier (entries, v1 and v2
// chains, checkpoints, transcript roots). Rendering is the command's job.

export interface VerifyEvidenceRequest extends KeyRingRequest {
  file?: string
  chainDir?: string
  /** Given by the user (else `proxy`): a .jsonl file must then hold that session's entries. */
  session?: string
  /**
   * How a .jsonl file is named in the report (its label and every finding), instead of the path
   * given: an audit packet's artifact path, so that what build and verify render from the same
   * evidence.jsonl does not depend on where the packet lies.
   */
  shownAs?: string
  /** The flag that named `file` (`--chain` of audit packet build): a path that cannot be opened is reported under it. */
  named?: string
  rotationEndorsements?: readonly string[]
  /** Entries no verified checkpoint signature covers fail the chain (evidence-set.ts). */
  requireSignedCheckpoints?: boolean
  onReceipt?: (fact: ReceiptFact) => void
  onProgress?: (bytesRead: number, bytesTotal: number, receipts: number) => void
}

export type EvidenceEndorsementFailure = {kind: 'endorsement_error'; label: string; error: string}
/** A single receipt's report; `unusedKeys` as in an evidence set's (named keys that pinned nothing). */
export type SingleEvidenceReport = VerifyReceiptReport & {unusedKeys?: string[]}
export type VerifyEvidenceReport = SingleEvidenceReport | EvidenceSetReport | EvidenceEndorsementFailure

/** What a path names: the files of one recorder session, in order, and how to label them. */
export interface EvidenceSource {
  files: string[]
  label: string
  directory: boolean
  /** The directory actually read (a session subdirectory when the given one holds none). */
  dir?: string
  /** Names of the session's pattern that are not regular files, so not read (directory mode). */
  skipped?: {name: string; what: string}[]
}

export async function resolveEvidenceSource(file: string | undefined, chainDir: string | undefined, session: string, named?: string): Promise<EvidenceSource | {single: string}> {
  if (file !== undefined && chainDir !== undefined) throw new PipelockError('USAGE', 'cannot pass a file argument together with --chain')
  if (file === undefined && chainDir === undefined) throw new PipelockError('USAGE', 'accepts 1 arg(s), received 0')
  const target = (chainDir ?? file) as string
  refuseSpecialFile(target, named ?? (chainDir === undefined && !target.endsWith('.jsonl') ? 'receipt' : 'chain'))
  let isDir: boolean
  try {
    isDir = (await stat(target)).isDirectory()
  } catch (e) {
    throw new PipelockError(
      (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE',
      `${named ?? `reading ${chainDir === undefined && !target.endsWith('.jsonl') ? 'receipt' : 'chain'}`}: ${osErrorText(e, 'open', target)}`,
    )
  }
  if (chainDir !== undefined && !isDir) throw new PipelockError('USAGE', `--chain ${chainDir}: not a directory`)
  if (isDir) {
    let dir = target
    let scan = await scanChainDir(dir, session)
    if (scan.files.length === 0 && scan.skipped.length === 0) {
      // `learn shadow --recorder-dir D` writes D/<session>/evidence-<session>-<n>.jsonl
      const sub = path.join(target, session)
      const st = await stat(sub).catch(() => undefined)
      if (st?.isDirectory() === true) {
        dir = sub
        scan = await scanChainDir(sub, session)
      }
    }
    return {files: scan.files, label: `${target} (session ${session})`, directory: true, dir, skipped: scan.skipped}
  }
  if (target.endsWith('.jsonl')) return {files: [target], label: target, directory: false}
  return {single: target}
}

export async function verifyEvidenceInput(req: VerifyEvidenceRequest): Promise<VerifyEvidenceReport> {
  const session = req.session ?? 'proxy'
  const keys = KeyRing.load(req)
  const source = await resolveEvidenceSource(req.file, req.chainDir, session, req.named)
  if ('single' in source) {
    // an endorsement authorises a key change between receipts: one receipt has none to check it against
    if ((req.rotationEndorsements ?? []).length > 0) {
      throw new PipelockError('USAGE', `--rotation-endorsement applies to a chain (a .jsonl file or a recorder directory), not to the single receipt ${source.single}`)
    }
    // checkpoints sign recorder entries: one receipt has none
    if (req.requireSignedCheckpoints === true) {
      throw new PipelockError('USAGE', `--require-signed-checkpoints applies to a chain (a .jsonl file or a recorder directory), not to the single receipt ${source.single}`)
    }
    // a recorder session names recorder entries: one receipt carries none
    if (req.session !== undefined) {
      throw new PipelockError('USAGE', `--session applies to a chain (a .jsonl file or a recorder directory), not to the single receipt ${source.single}`)
    }
    const single = await verifySingleFile(source.single, keys)
    // as for a set: only once it verified (a failure already names the key that did not fit)
    const unused = single.valid ? keys.unusedNamed() : []
    return unused.length === 0 ? single : {...single, unusedKeys: unused}
  }
  let endorsements: RotationEndorsement[]
  let found: FoundEndorsement[]
  try {
    endorsements = await loadEndorsements(req.rotationEndorsements ?? [])
    found = source.directory ? await foundEndorsements(source.dir as string, session, endorsements) : []
  } catch (e) {
    if (e instanceof EndorsementError) return {kind: 'endorsement_error', label: source.label, error: e.message}
    throw e
  }
  const report = await verifyEvidenceSet({
    files: source.files,
    label: source.directory || req.shownAs === undefined ? source.label : req.shownAs,
    display: source.directory ? (f) => path.basename(f) : req.shownAs === undefined ? (f) => f : () => req.shownAs as string,
    keys: keys.withEndorsedSuccessors([...endorsements, ...found.map((f) => f.endorsement)]),
    session,
    ...(req.session !== undefined && !source.directory ? {fileSession: true} : {}),
    endorsements,
    endorsementFiles: req.rotationEndorsements ?? [],
    found,
    directory: source.directory,
    ...(source.skipped === undefined || source.skipped.length === 0 ? {} : {skipped: source.skipped}),
    ...(req.onReceipt === undefined ? {} : {onReceipt: req.onReceipt}),
    ...(req.onProgress === undefined ? {} : {onProgress: req.onProgress}),
    ...(req.requireSignedCheckpoints === true ? {requireSignedCheckpoints: true} : {}),
  })
  if (!source.directory || source.files.length > 0 || (source.skipped ?? []).length > 0) return report
  return {...report, noRecorderFiles: await noRecorderFiles(req.file ?? (req.chainDir as string), session)}
}

/** How many other .jsonl names an empty directory's verdict lists. */
const LISTED_OTHERS = 5

/** What a directory without recorder files of the session was searched for, and what it holds instead. */
async function noRecorderFiles(dir: string, session: string): Promise<NonNullable<EvidenceSetReport['noRecorderFiles']>> {
  const names = await readdir(dir).catch(() => [] as string[])
  const others = names.filter((n) => n.endsWith('.jsonl')).sort()
  return {pattern: `evidence-${session}-<n>.jsonl`, dirs: [dir, path.join(dir, session)], otherJsonl: others.slice(0, LISTED_OTHERS).concat(others.length > LISTED_OTHERS ? [`… ${others.length - LISTED_OTHERS} more`] : [])}
}

type FoundEndorsement = {file: string; name: string; endorsement: RotationEndorsement}

/**
 * The rotation endorsements a recorder directory holds (`rotation-<n>.json`, the files
 * `signing rotation endorse` writes and `pipelock run` reads), so that a directory verifies
 * across its endorsed rotations as the run continued across them, without naming each file.
 * Only the session's own count (a directory may hold several sessions' files); one also named
 * on the command line is taken once. A file that does not parse or verify is refused, named,
 * as a named one is: a recorder directory holds no damaged endorsement by accident. Found ones
 * are trusted as named ones are (only from a pinned key, each signed by the key it retires), but
 * one that no boundary uses is reported, not fatal (evidence-set.ts).
 */
async function foundEndorsements(dir: string, session: string, named: readonly RotationEndorsement[]): Promise<FoundEndorsement[]> {
  const out: FoundEndorsement[] = []
  for (const r of await readRotationFiles(dir)) {
    if ('error' in r) throw r.error instanceof EndorsementError ? new EndorsementError(`${r.name}: ${r.error.message}`) : r.error
    const e = r.endorsement
    if (e.sessionId !== session || named.some((n) => n.endorsement === e.endorsement)) continue
    out.push({file: r.file, name: r.name, endorsement: e})
  }
  return out
}

/** One receipt file: v1 with the plain key, v2 with the key its signer_key_id names. */
async function verifySingleFile(file: string, keys: KeyRing): Promise<VerifyReceiptReport> {
  if (keys.named.size === 0 && keys.roster === undefined) return verifyReceiptInput(keys.plain === undefined ? {file} : {file, key: keys.plain, ...nameOf(keys, keys.plain)})
  const text = (await readBounded(file, MAX_RECEIPT_FILE_BYTES, 'receipt')).toString('utf8')
  let isV2 = false
  try {
    const tree = parseStrictJson(text).value
    isV2 = tree instanceof Map && tree.get('record_type') === 'evidence_receipt_v2'
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e
  }
  if (!isV2) return verifyV1File(file, keys)
  let parsed
  try {
    parsed = parseEvidenceReceipt(text, {file})
  } catch (e) {
    if (e instanceof EvidenceParseError) return evidenceFileReport(file, text, {})
    throw e
  }
  const choice = keys.forEvidence(parsed)
  if (choice === undefined || 'error' in choice) {
    const report = evidenceFileReport(file, text, {})
    return choice === undefined ? report : {...report, valid: false, error: choice.error}
  }
  return evidenceFileReport(file, text, {publicKey: choice.publicKey, ...(choice.signerKeyId === undefined ? {} : {expectedSignerKeyId: choice.signerKeyId})})
}

/**
 * One v1 receipt when named keys or a roster are pinned (and no plain key): pinned, as a chain's
 * first receipt is, to the named or roster key whose public key signed it; a signer that is none
 * of them fails.
 */
async function verifyV1File(file: string, keys: KeyRing): Promise<VerifyReceiptReport> {
  if (keys.plain !== undefined) return verifyReceiptInput({file, key: keys.plain, ...nameOf(keys, keys.plain)})
  const embedded = await verifyReceiptInput({file})
  if (embedded.kind !== 'action_receipt_v1' || embedded.receipt === undefined) return embedded
  const pin = keys.v1Pin(embedded.receipt.signerKey)
  const error = pin.key === undefined ? (pin.error ?? `v1 signer ${embedded.receipt.signerKey} is not among the pinned keys`) : keys.v1RosterError(embedded.receipt.signerKey, embedded.receipt.timestamp)
  if (error !== undefined || pin.key === undefined) return {...embedded, valid: false, signerPinned: true, error: error as string}
  return verifyReceiptInput({file, key: pin.key, ...nameOf(keys, pin.key)})
}

/** `{keyName}` for a pinned key read from a file: errors name it, never echo the file's contents. */
function nameOf(keys: KeyRing, hex: string): {keyName?: string} {
  const name = keys.nameOf(hex)
  return name === undefined ? {} : {keyName: name}
}

/**
 * One v2 receipt given without any key: every check but the signature ran and passed (the
 * verifier stops at the key step, the last before the signature). Nothing is broken, as for an
 * evidence set without a key: `NO KEY GIVEN`, exit 3, not `FAILED`.
 */
export function evidenceUnkeyed(report: EvidenceReport): boolean {
  return !report.signerPinned && report.unsupportedCritical === undefined && report.error === EVIDENCE_NO_PUBLIC_KEY
}

/**
 * One warning line per named key that pinned nothing (stderr of the commands that verify
 * evidence). Named by id only: the key's value may be a file path or key material.
 */
export function unusedKeyWarnings(unusedKeys: readonly string[] | undefined, roster: boolean): string[] {
  const decided = roster ? ' (the roster decided every signer)' : ''
  return (unusedKeys ?? []).map(
    (id) => `warning: --key ${id}=…: no receipt has signer_key_id ${JSON.stringify(id)} and none was signed by that key, so it pinned nothing${decided}; check the key id`,
  )
}

/**
 * Evidence in which nothing is broken but v2 signatures were not checked (no key given): not a
 * pass (`valid: false`), not a failure either — `NO KEY GIVEN`, exit 3, in verify-receipt, audit
 * packet build and verify, and audit report alike.
 */
export function v2SignaturesUnchecked(report: EvidenceSetReport): boolean {
  return report.verdict === 'self_consistent_only' && !report.evidenceReceipts.signaturesChecked
}

/** The exit status of evidence whose v2 signatures were not checked (docs/receipts.md, "Exit status"). */
export const EXIT_NO_KEY_GIVEN = 3

/**
 * The exit status of evidence this version cannot verify (a v2 receipt's `crit` names an unknown
 * extension; every other check passed): verify-receipt, audit packet build/verify and audit report.
 */
export const EXIT_NOT_VERIFIABLE = 4

/** The exit status of a verification (documented in docs/receipts.md, "Exit status"). */
export function verifyExitStatus(report: VerifyEvidenceReport): number {
  if (report.kind === 'endorsement_error') return 1
  if (report.kind === 'evidence_set') {
    if (report.verdict === 'not_verifiable') return EXIT_NOT_VERIFIABLE
    if (v2SignaturesUnchecked(report)) return EXIT_NO_KEY_GIVEN
    return report.valid ? 0 : 1
  }
  if (report.kind === 'evidence_receipt_v2' && report.unsupportedCritical !== undefined) return EXIT_NOT_VERIFIABLE
  if (report.kind === 'evidence_receipt_v2' && evidenceUnkeyed(report)) return EXIT_NO_KEY_GIVEN
  return report.valid ? 0 : 1
}
