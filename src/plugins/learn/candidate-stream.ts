import {createHash} from 'node:crypto'
import {closeSync, readSync} from 'node:fs'
import {assertYamlEmittable, canonicalize, CanonicalText, emitSequenceItem, emitSignedYamlTo, type JsonObject, type JsonValue, type PushedItems} from '../canonical/index.js'
import {CONTRACT_KEY_PURPOSE, readEnvelopeTail, RuleByRuleChecks, streamContractEnvelopeFd, streamContractEnvelopeVerifyingFd} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {formatSignature, signBytes} from '../signing/index.js'
import {openCandidate} from './candidate-file.js'
import {resignedBody, type ContractSigner} from './candidate-sign.js'
import {keysBeforeParse, type CandidateTrust} from './candidate-verify.js'
import {writeSignedBody} from './signed-body.js'

// The passes of a lifecycle command that edits a candidate read rule by rule (ratify, forget,
// split, pin): the file is read through contracts' streamed envelope read each time, keeping no
// decoded tree and no text whole (bench: a 158,778-rule candidate, 213 MB of YAML, took 2.8 GB
// decoded whole).
//
//   A. `readVerified`: the signature and contract_hash are checked as the rules pass (the trust
//      of `verifyCandidate`), each rule handed to the command, which keeps what it needs of it;
//   B. `signRules`: the rules the command keeps (as it edits them) are canonicalised into the
//      signed body (signed-body.ts), which is hashed and signed;
//   C. `rulesWriter`: the same rules are written as YAML lines into the staged file (or, when
//      none changed, `bytesWriter`: the file's bytes as they are).
//
// Each pass hashes the bytes it read, and a pass that did not read pass A's bytes refuses: what
// was verified in pass A is then what is signed and written, even if the file is changed while
// the command runs. Where a pass cannot prove the outcome the whole path would reach, it answers
// undefined before anything is written, and the command's whole path decides in its own words.

/** Where a streamed command's run went (tests): the end of each pass, or the whole path. */
export type StreamStep = 'whole' | 'rules-read' | 'body-signed' | 'yaml-written'

/** What pass A read: the body (rules empty) and the file's bytes' SHA-256 and length. */
export interface VerifiedRead {
  body: JsonObject
  digest: Buffer
  bytes: number
}

/** A command's edit of one rule as read (index in the file): the rule to keep (a copy when changed), or undefined to leave it out. */
export type RuleEdit = (rule: JsonObject, index: number) => JsonObject | undefined

/**
 * Pass A: the candidate verified as it is read (`verifyCandidate`'s keys, purpose and
 * contract_hash), each rule to `onRule`. Undefined where that proves nothing (the read declines,
 * the signature is not proven, no rules): the whole path then decides. The caller loads the
 * curve arithmetic first (signing `loadEd25519Arithmetic`); without it nothing is proven.
 */
export function readVerified(file: string, trust: CandidateTrust, onRule: (rule: JsonObject, index: number) => void): VerifiedRead | undefined {
  const fd = openCandidate(file)
  try {
    const early = keysBeforeParse(trust, readEnvelopeTail(fd))
    if (early === undefined) return undefined
    const hash = createHash('sha256')
    let bytes = 0
    const read = streamContractEnvelopeVerifyingFd(fd, file, onRule, early.keys, early.signature, {
      contractHash: true,
      onBytes: (b) => {
        hash.update(b)
        bytes += b.length
      },
    })
    if (read === undefined || !read.verified || read.sha256Hex === undefined || read.ruleCount === 0) return undefined
    // the keys the rules were checked by must be those the body's signer_key_id names
    if (early.signer !== undefined && read.body.get('signer_key_id') !== early.signer) return undefined
    if (read.body.get('key_purpose') !== CONTRACT_KEY_PURPOSE || read.body.get('contract_hash') !== 'sha256:' + read.sha256Hex) return undefined
    return {body: read.body, digest: hash.digest(), bytes}
  } finally {
    closeSync(fd)
  }
}

/**
 * The candidate read again, each rule to `onRule`; refuses when the bytes read are not those
 * pass A read (the file changed since). A throw from `onRule` is the read's, once the bytes are
 * known to be the same (the streamed parse would take it for a parse failure). `command`: the
 * refusal's words (`learn ratify`).
 */
export function reread(file: string, first: VerifiedRead, command: string, onRule: (rule: JsonObject, index: number) => void): void {
  const fd = openCandidate(file)
  const hash = createHash('sha256')
  let failure: {error: unknown} | undefined
  let read
  try {
    read = streamContractEnvelopeFd(
      fd,
      file,
      (rule, i) => {
        if (failure !== undefined) return
        try {
          onRule(rule, i)
        } catch (e) {
          failure = {error: e}
        }
      },
      {canonical: false, onBytes: (b) => hash.update(b)},
    )
  } finally {
    closeSync(fd)
  }
  if (read === undefined || !hash.digest().equals(first.digest)) {
    throw changed(file, command)
  }
  if (failure !== undefined) throw failure.error
}

/** The edited body signed (pass B): its rules are `slot`, `count` of them, written from the file when emitted. */
export interface SignedRules {
  body: JsonObject
  slot: JsonValue[]
  count: number
  hash: string
  signature: string
}

/**
 * Pass B: `resignContract` over the rules `edit` keeps, as they are read: the same body, checks,
 * hash and signature, the rules never held. `shape` edits the rest of the body (the signer is
 * already named; `rules` is the slot). Undefined when the edited body has a problem
 * (`contractProblem`) or a string the YAML cannot carry: the whole path refuses it in its words.
 */
export function signRules(file: string, read: VerifiedRead, command: string, signer: ContractSigner, edit: RuleEdit, shape: (body: JsonObject) => void): SignedRules | undefined {
  const body = resignedBody(read.body, signer)
  const slot: JsonValue[] = []
  body.set('rules', slot)
  shape(body)
  body.set('contract_hash', '')
  try {
    assertYamlEmittable(body)
  } catch {
    return undefined
  }
  let fine = true
  let count = 0
  const checks = new RuleByRuleChecks()
  const root = body.get('data_class_root')
  const rules: PushedItems = (push) => {
    reread(file, read, command, (rule, i) => {
      const kept = edit(rule, i)
      if (kept === undefined) return
      if (!checks.rule(kept, count++, root)) fine = false
      try {
        assertYamlEmittable(kept)
      } catch {
        fine = false
      }
      push(new CanonicalText(canonicalize(kept)))
    })
  }
  // Reserved, not committed: the body is written into it as it grows (signed-body.ts).
  const maxBytes = Math.max(64 * 1024 * 1024, 2 * read.bytes)
  const signed = writeSignedBody(body, (a) => (a === slot ? rules : undefined), (bytes) => formatSignature(signBytes(signer.keyPair, bytes)), maxBytes)
  if (!fine || !checks.body(body)) return undefined
  body.set('contract_hash', signed.hash)
  return {body, slot, count, hash: signed.hash, signature: signed.signature}
}

/**
 * Pass C: the signed envelope's YAML, its rules written from the file as `edit` keeps them (the
 * same edit as pass B's), for candidate-commit's `stageCandidate` or `stagedCommit`, or signing `writeFileAtomic`.
 */
export function rulesWriter(file: string, read: VerifiedRead, command: string, signed: SignedRules, edit: RuleEdit): (write: (piece: string) => void) => void {
  const envelope: JsonObject = new Map<string, JsonValue>([
    ['body', signed.body],
    ['signature', signed.signature],
  ])
  return (write) =>
    emitSignedYamlTo(envelope, write, (a) =>
      a === signed.slot
        ? {
            count: signed.count,
            lines: (push, col) =>
              reread(file, read, command, (rule, i) => {
                const kept = edit(rule, i)
                if (kept !== undefined) emitSequenceItem(kept, col, push)
              }),
          }
        : undefined,
    )
}

/**
 * The candidate's bytes as they are, for a command that leaves its rules unchanged but writes
 * them elsewhere (signing `writeFileAtomic`): refused, before the commit, when they are not the
 * bytes pass A read.
 */
export function bytesWriter(file: string, read: VerifiedRead, command: string): (write: (piece: Uint8Array) => void) => void {
  return (write) => {
    const fd = openCandidate(file)
    const hash = createHash('sha256')
    try {
      const chunk = Buffer.alloc(1024 * 1024)
      for (;;) {
        const n = readSync(fd, chunk, 0, chunk.length, null)
        if (n === 0) break
        const piece = chunk.subarray(0, n)
        hash.update(piece)
        write(piece)
      }
    } finally {
      closeSync(fd)
    }
    if (!hash.digest().equals(read.digest)) throw changed(file, command)
  }
}

function changed(file: string, command: string): PipelockError {
  return new PipelockError('CANDIDATE_INVALID', `learn: invalid candidate file: the candidate changed while ${command} read it; nothing was written: ${file}`, {hint: `rerun ${command} once nothing writes the candidate`})
}
