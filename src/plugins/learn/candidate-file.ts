import {closeSync, constants, fstatSync, lstatSync, openSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {decodeEnvelope, type SignedEnvelope} from '../contracts/index.js'
import {PipelockError} from '../errors/index.js'
import {lstatOutputPath, makeDirs, writableProbe} from '../signing/index.js'

// learn-lifecycle §4.0: candidate input paths and output paths shared by shadow, ratify,
// forget, split and pin. Every refusal carries the sentinel `learn: invalid candidate file`.

const SENTINEL = 'learn: invalid candidate file'

function invalid(detail: string): PipelockError {
  return new PipelockError('CANDIDATE_INVALID', `${SENTINEL}: ${detail}`)
}

/**
 * Opens a candidate for reading: non-empty, absolute, a regular file and not a symlink (checked
 * with lstat, then opened with O_NOFOLLOW so a symlink raced into place is refused too). The
 * caller closes the descriptor.
 */
export function openCandidate(p: string): number {
  if (p === '') throw invalid('empty candidate path')
  if (!path.isAbsolute(p)) throw invalid(`candidate path must be absolute, got ${JSON.stringify(p)}`)
  const clean = path.normalize(p)
  let st
  try {
    st = lstatSync(clean)
  } catch (e) {
    throw invalid(`cannot read candidate: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}: ${clean}`)
  }
  if (st.isSymbolicLink()) throw invalid(`candidate must not be a symlink: ${clean}`)
  if (!st.isFile()) throw invalid(`candidate must be a regular file: ${clean}`)
  let fd: number
  try {
    fd = openSync(clean, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw invalid(`symlink raced into place: ${clean}`)
    throw invalid(`cannot read candidate: ${(e as Error).message}`)
  }
  try {
    if (!fstatSync(fd).isFile()) throw invalid(`candidate must be a regular file: ${clean}`)
  } catch (e) {
    closeSync(fd)
    throw e
  }
  return fd
}

/** Reads a candidate (`openCandidate`'s checks); an empty or all-white-space one is refused. */
export function readCandidateText(p: string): string {
  const fd = openCandidate(p)
  try {
    const text = readFileSync(fd, 'utf8')
    if (text.trim() === '') throw invalid('candidate is empty')
    return text
  } finally {
    closeSync(fd)
  }
}

/** Strict envelope decode (§1.4, §2.1) with the lifecycle prefix; the signature is not checked here. */
export function decodeCandidate(text: string, file: string): SignedEnvelope {
  try {
    return decodeEnvelope(text, file)
  } catch (e) {
    if (e instanceof PipelockError) {
      throw new PipelockError('CANDIDATE_INVALID', `learn: decode candidate envelope: ${e.message}`, e.location ? {location: e.location} : {})
    }
    throw e
  }
}

export function loadCandidate(p: string): SignedEnvelope {
  return decodeCandidate(readCandidateText(p), p)
}

/** `--out` of ratify/forget/split/pin: absolute; if present a regular file, never a symlink. */
export function checkCandidateOut(p: string): string {
  if (!path.isAbsolute(p)) throw invalid(`--out must be absolute, got ${JSON.stringify(p)}`)
  const st = lstatOutputPath(p, '--out')
  if (st?.isSymbolicLink() === true) throw invalid(`--out must not be a symlink: ${p}`)
  if (st !== undefined && !st.isFile()) throw invalid(`--out must be a regular file when it exists: ${p}`)
  return path.normalize(p)
}

/**
 * Report, receipt and tombstone paths: absolute, not a symlink or directory when present.
 * `command` names the command in the messages (`learn shadow`). `create` makes the parent (0750) — callers do that only once everything else succeeded.
 */
export function checkOutputPath(p: string, command: string, create = false): string {
  if (!path.isAbsolute(p)) throw new PipelockError('PATH_NOT_ABSOLUTE', `${command}: invalid output path: path must be absolute: ${p}`)
  const st = lstatOutputPath(p, `${command}: output`)
  if (st?.isSymbolicLink() === true) throw new PipelockError('PATH_UNSAFE', `${command}: invalid output path: path must not be a symlink: ${p}`)
  if (st !== undefined && !st.isFile()) throw new PipelockError('PATH_UNSAFE', `${command}: invalid output path: path must be a regular file when it exists: ${p}`)
  if (create) {
    try {
      makeDirs(path.dirname(p), 0o750)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `${command}: invalid output path: mkdir parent: ${(e as Error).message}`)
    }
  }
  return path.normalize(p)
}

/**
 * Fails when `p` could not be written: the file (when it exists) or its nearest existing ancestor
 * directory is not writable. A pre-check, for commands that ask questions before they write.
 */
export function checkWritable(p: string, what: string): void {
  const {probe, error} = writableProbe(p, constants.W_OK)
  if (error === undefined) return
  const code = error.code
  throw new PipelockError('WRITE_FAILED', `${what} ${p} cannot be written: ${probe}: ${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : error.message}`)
}
