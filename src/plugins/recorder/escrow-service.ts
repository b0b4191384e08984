import {readFileSync, existsSync} from 'node:fs'
import path from 'node:path'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {parseRecorderEntry, recorderEntryHash, readLines} from '../receipts/index.js'
import {createFileAtomic, EscrowError, readEscrowPrivateKey, openEscrow, refuseSpecialFile, x25519KeyPair, x25519PublicKey} from '../signing/index.js'

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
    const code = (e as NodeJS.ErrnoException).code
    throw new PipelockError(code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_UNREADABLE', `reading escrow file ${req.file}: ${osErrorReason(e)}`)
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

async function bindingCheck(evidence: string, name: string, plaintext: string): Promise<{entrySeq: string; matches: boolean; message: string}> {
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
