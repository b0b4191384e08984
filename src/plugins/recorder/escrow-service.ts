import {readFileSync, existsSync, statSync} from 'node:fs'
import path from 'node:path'
import {isPipelockError, osErrorReason, PipelockError} from '../errors/index.js'
import {parseRecorderEntry, recorderEntryHash, readLines} from '../receipts/index.js'
import {createFileAtomic, EscrowError, readFailureCode, readEscrowPrivateKey, openEscrow, refuseSpecialFile, x25519KeyPair, x25519PublicKey} from '../signing/index.js'

// The key holder's side of raw escrow (policy-extra.md §3.6): a key pair for
// `flight_recorder.escrow_public_key`, and decryption of `evidence-<session>-<seq>.raw.enc`
// sidecars, optionally checked against the entry whose `raw_ref` names them.

export interface EscrowKeygenResult {
  publicKey: string
  /** Where the private key was written; absent when it went to stderr. */
  privateKeyFile?: string
  privateKey?: string
}

export function escrowKeygen(outPrivate?: string): EscrowKeygenResult {
  const kp = x25519KeyPair()
  const publicKey = kp.publicKey.toString('hex')
  const privateKey = kp.secretKey.toString('hex')
  if (outPrivate === undefined) return {publicKey, privateKey}
  const exists = (): PipelockError => new PipelockError('FILE_EXISTS', `${outPrivate} already exists`)
  if (existsSync(outPrivate)) throw exists()
  // Written whole or not at all, never over a file: a key file cut short by a full disk would be
  // a lost key that also blocks the retry.
  try {
    createFileAtomic(outPrivate, privateKey + '\n', 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw exists()
    throw new PipelockError('WRITE_FAILED', `${outPrivate}: ${osErrorReason(e)}; nothing was written`)
  }
  return {publicKey, privateKeyFile: outPrivate}
}

export interface EscrowDecryptRequest {
  file: string
  key: string
  /** A recorder file to find the entry naming this sidecar in. */
  verifyEntry?: string
}

export interface EscrowDecryptResult {
  file: string
  bytes: number
  /** The decrypted detail (UTF-8; the recorder seals JSON). */
  plaintext: string
  /** The X25519 public key of the key used (what the recorder was configured with). */
  publicKey: string
  binding?: {entrySeq: string; matches: boolean; message: string}
}

export async function decryptEscrow(req: EscrowDecryptRequest): Promise<EscrowDecryptResult> {
  const sk = readEscrowPrivateKey(req.key, '--key')
  refuseSpecialFile(req.file, 'escrow file')
  if (req.verifyEntry !== undefined) refuseSpecialFile(req.verifyEntry, '--verify-entry')
  let data: Buffer
  try {
    data = readFileSync(req.file)
  } catch (e) {
    throw readError(`escrow file ${req.file}`, e)
  }
  // Looked at before the decryption, so a mistyped --verify-entry is said first, as the file is.
  if (req.verifyEntry !== undefined) {
    let isDir: boolean
    try {
      isDir = statSync(req.verifyEntry).isDirectory()
    } catch (e) {
      throw readError(`--verify-entry ${req.verifyEntry}`, e)
    }
    if (isDir) {
      throw new PipelockError('FILE_UNREADABLE', `reading --verify-entry ${req.verifyEntry}: is a directory`, {hint: 'name the evidence-<session>-<n>.jsonl file that holds the entry whose raw_ref names the sidecar'})
    }
  }
  let plain: Buffer
  try {
    plain = openEscrow(data, sk)
  } catch (e) {
    if (e instanceof EscrowError) throw new PipelockError('ESCROW_DECRYPT_FAILED', e.message)
    throw e
  }
  const out: EscrowDecryptResult = {file: req.file, bytes: plain.length, plaintext: plain.toString('utf8'), publicKey: x25519PublicKey(sk).toString('hex')}
  if (req.verifyEntry !== undefined) out.binding = await bindingCheck(req.verifyEntry, path.basename(req.file), out.plaintext)
  return out
}

/** A file that could not be read: FILE_NOT_FOUND when it is not there, else FILE_UNREADABLE; `what` names it. */
function readError(what: string, e: unknown): PipelockError {
  return new PipelockError(readFailureCode(e), `reading ${what}: ${osErrorReason(e)}`)
}

async function bindingCheck(evidence: string, name: string, plaintext: string): Promise<{entrySeq: string; matches: boolean; message: string}> {
  try {
    return await findBinding(evidence, name, plaintext)
  } catch (e) {
    // an I/O failure of the read (the file removed or made unreadable since it was looked at)
    if (!isPipelockError(e) && typeof (e as NodeJS.ErrnoException).code === 'string') throw readError(`--verify-entry ${evidence}`, e)
    throw e
  }
}

async function findBinding(evidence: string, name: string, plaintext: string): Promise<{entrySeq: string; matches: boolean; message: string}> {
  for await (const line of readLines(evidence)) {
    const t = line.text?.trim()
    if (!t || !t.includes(name)) continue
    let e
    try {
      e = parseRecorderEntry(t)
    } catch {
      continue
    }
    if (e.rawRef !== name) continue
    // The entry hash covers raw_ref and the detail as written: with the plaintext as the detail,
    // an entry that was not redacted hashes to what is stored.
    const matches = recorderEntryHash({...e, detailRaw: plaintext}) === e.hash
    return {
      entrySeq: e.seq,
      matches,
      message: matches ? `escrow matches entry seq ${e.seq}` : `escrow decrypted; the entry at seq ${e.seq} was redacted, so no byte-for-byte binding check is possible`,
    }
  }
  throw new PipelockError('RECORDER_ENTRY_INVALID', `no entry in ${evidence} has raw_ref ${JSON.stringify(name)}`)
}
