import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'
import {formatGoTime, fromEpochNanos, type Clock} from '../canonical/index.js'
import {osErrorReason, PipelockError} from '../errors/index.js'
import {encodeRotationEndorsement, parseRotationEndorsement, signRotationEndorsement} from '../receipts/index.js'
import {createFileAtomic, loadPrivateKeyTextFile, loadPublicKey, PRIVATE_KEY_HEADER} from '../signing/index.js'
import {readReceiptTail, tailSignatureError} from './receipt-tail.js'
import {findRotationEndorsement, isRotationFileName, nextRotationFile} from './rotation-files.js'
import {acquireWriterLock, writerLockHolder} from './writer-lock.js'

// `pipelock signing rotation endorse` (receipts.md §10): the retiring receipt key signs a
// rotation endorsement naming the chain's tail and its successor. The tail is read from the
// recorder's own files; the retiring key must be the key that signed it.

export interface EndorseRotationRequest {
  dir: string
  session: string
  /** `pipelock-ed25519-private-v1` file of the key that signed the chain's tail. */
  retiringKeyFile: string
  /** The successor: a public key (file or 64 hex) or its private key file (the public half is used). */
  newKey: string
  /** Default `<dir>/rotation-<n>.json`, n one past the highest there. Never overwritten. */
  out?: string
  clock: Clock
}

export interface EndorseRotationResult {
  file: string
  /** Whether a restarted `pipelock run` finds the file (it looks for `<dir>/rotation-<n>.json`). */
  discoverable: boolean
  version: 1
  session_id: string
  prior_signer_key: string
  prior_final_seq: string
  prior_tail_hash: string
  new_signer_key: string
  rotated_at: string
  endorsement: string
}

export async function endorseRotation(req: EndorseRotationRequest): Promise<EndorseRotationResult> {
  const where = `${req.dir} (session ${req.session})`
  let isDir = false
  try {
    isDir = statSync(req.dir).isDirectory()
  } catch (e) {
    throw new PipelockError('FILE_NOT_FOUND', `--dir ${req.dir}: ${osErrorReason(e)}`, {hint: 'name the flight_recorder.dir of the chain whose key is retired'})
  }
  if (!isDir) throw new PipelockError('USAGE', `--dir ${req.dir} is not a directory`)
  const retiring = loadPrivateKeyTextFile(req.retiringKeyFile, '--retiring-key')
  const retiringHex = retiring.publicKey.toString('hex')
  const newKeyHex = successorKey(req.newKey)
  if (newKeyHex === retiringHex) throw new PipelockError('KEY_INVALID', `--new-key is the retiring key ${retiringHex}: a rotation needs a new key`, {hint: 'make one with pipelock keygen NAME'})

  const holder = writerLockHolder(req.dir, req.session)
  if (holder !== undefined) {
    throw new PipelockError('RECORDER_LOCKED', `${where} is being written by process ${holder}: the chain's tail is still moving`, {
      hint: 'stop pipelock run first; endorse, then start it with the new key',
    })
  }
  // Held while the tail is read and the file written, so no run starts in between.
  const release = acquireWriterLock(req.dir, req.session)
  try {
    const tail = await readReceiptTail(req.dir, req.session)
    if (tail.kind === 'none') throw new PipelockError('CHAIN_EMPTY', `no receipts in ${where}: there is no chain to hand over`)
    if (tail.kind === 'sealed') throw new PipelockError('RECORDER_ENTRY_INVALID', `${where}: chain sealed: transcript root already emitted; a sealed chain takes no further receipts`)
    if (tail.kind === 'unparsable') throw new PipelockError('RECORDER_ENTRY_INVALID', `${where}: the last receipt does not parse: ${tail.error}`)
    if (tail.signerKey === newKeyHex && tailSignatureError(tail, newKeyHex) === undefined) {
      throw new PipelockError('RECEIPT_KEY_MISMATCH', `${where}: the last receipt (chain_seq ${tail.seq}) is already signed by --new-key ${newKeyHex}: that key took over already; nothing to endorse`)
    }
    const bad = tailSignatureError(tail, retiringHex)
    if (bad !== undefined) {
      throw new PipelockError('RECEIPT_KEY_MISMATCH', `${where}: the last receipt (chain_seq ${tail.seq}) is not signed by the retiring key ${retiringHex} (--retiring-key ${req.retiringKeyFile}): ${bad}`, {
        hint: 'endorse with the key the chain is signed with now (flight_recorder.signing_key_path of the last run)',
      })
    }
    const boundary = {sessionId: req.session, priorSignerKey: retiringHex, priorFinalSeq: tail.seq, priorTailHash: tail.hash, newSignerKey: newKeyHex}
    const existing = (await findRotationEndorsement(req.dir, boundary)).match
    if (existing !== undefined) {
      throw new PipelockError('FILE_EXISTS', `${existing.file} already endorses this rotation (chain_seq ${tail.seq} to key ${newKeyHex})`, {hint: 'start pipelock run with the new key'})
    }
    const endorsement = signRotationEndorsement(retiring, {...boundary, rotatedAt: formatGoTime(fromEpochNanos(req.clock.nowNanos()))})
    const text = encodeRotationEndorsement(endorsement, 'file')
    // What we write must be what every verifier reads (a bug here would fail at the next start).
    parseRotationEndorsement(Buffer.from(text, 'utf8'))
    const file = req.out ?? (await nextRotationFile(req.dir))
    writeNew(file, text)
    return {
      file,
      discoverable: path.resolve(path.dirname(file)) === path.resolve(req.dir) && isRotationFileName(path.basename(file)),
      version: 1,
      session_id: endorsement.sessionId,
      prior_signer_key: endorsement.priorSignerKey,
      prior_final_seq: endorsement.priorFinalSeq.toString(),
      prior_tail_hash: endorsement.priorTailHash,
      new_signer_key: endorsement.newSignerKey,
      rotated_at: endorsement.rotatedAt,
      endorsement: endorsement.endorsement,
    }
  } finally {
    release()
  }
}

/** `--new-key`: a private key file (`pipelock keygen`'s id_ed25519) gives its public half; else a public key file or hex. */
function successorKey(value: string): string {
  if (existsSync(value)) {
    let head = ''
    try {
      head = readFileSync(value, 'utf8').slice(0, PRIVATE_KEY_HEADER.length + 2).trimStart()
    } catch (e) {
      throw new PipelockError('FILE_UNREADABLE', `--new-key ${value}: ${osErrorReason(e)}`)
    }
    if (head.startsWith(PRIVATE_KEY_HEADER)) return loadPrivateKeyTextFile(value, '--new-key').publicKey.toString('hex')
  }
  try {
    return loadPublicKey(value).hex
  } catch (e) {
    if (e instanceof PipelockError) throw new PipelockError(e.code, `--new-key: ${e.message}`)
    throw e
  }
}

/** Created whole (mode 0600) or not at all, never over an existing file. */
function writeNew(file: string, text: string): void {
  try {
    createFileAtomic(file, text, 0o600)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new PipelockError('FILE_EXISTS', `${file} already exists; an endorsement is never overwritten`, {hint: 'name another --out'})
    throw new PipelockError('WRITE_FAILED', `writing ${file}: ${osErrorReason(e)}; nothing was written`)
  }
}
