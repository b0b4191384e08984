import {closeSync, fchmodSync, openSync, renameSync, unlinkSync, writeSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import path from 'node:path'
import {PipelockError} from '../errors/index.js'
import {makeDirs} from '../signing/index.js'
import {appendWhole} from '../receipts/index.js'

/**
 * Appends JSONL lines to a receipt file (created 0600, append-only), parent created 0750, whole or
 * not at all (`appendWhole`: a write the disk cuts short is cut back off).
 */
export function appendReceiptLines(file: string, lines: readonly string[]): void {
  makeDirs(path.dirname(file), 0o750)
  const fd = openSync(file, 'a', 0o600)
  try {
    appendWhole(fd, lines.map((l) => l + '\n').join(''), {bytes: 0})
  } finally {
    closeSync(fd)
  }
}

/** The new candidate written to its hidden temp file (`stageCandidate`), not yet in place. */
export interface StagedCandidate {
  /** Appends the receipts, then renames the temp file onto `dest`; on failure the temp file is removed. */
  commit(receiptFile: string | undefined, receiptLines: readonly string[]): void
  /** Removes the temp file (anything else failed before the commit). */
  discard(): void
}

/**
 * §4.0 staged commit: the new candidate goes to a hidden temp file next to `dest`, then the
 * receipts are appended, then the temp file is renamed onto `dest`. Any failure before the
 * rename leaves `dest` untouched and removes the temp file. `content`: the text, or a writer
 * that hands it to `write` piece by piece (a document too large to hold as one string); a
 * PipelockError it throws is the commit's, with nothing written.
 */
export function stagedCommit(dest: string, content: string | ((write: (piece: string) => void) => void), receiptFile: string | undefined, receiptLines: readonly string[]): void {
  stageCandidate(dest, content).commit(receiptFile, receiptLines)
}

/**
 * The first step of `stagedCommit` alone, for a command with more to write between staging and
 * committing (forget's tombstone): the caller commits or discards.
 */
export function stageCandidate(dest: string, content: string | ((write: (piece: string) => void) => void)): StagedCandidate {
  const dir = path.dirname(dest)
  const tmp = path.join(dir, `.${path.basename(dest)}.staged-${randomBytes(6).toString('hex')}`)
  let fd: number
  try {
    makeDirs(dir, 0o750)
    fd = openSync(tmp, 'wx', 0o600)
  } catch (e) {
    throw new PipelockError('WRITE_FAILED', `cannot stage ${dest}: ${(e as Error).message}`)
  }
  const discard = (): void => {
    try {
      unlinkSync(tmp)
    } catch {
      // already gone
    }
  }
  try {
    try {
      fchmodSync(fd, 0o600)
      const write = (piece: string): void => {
        const buf = Buffer.from(piece, 'utf8')
        let off = 0
        while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off)
      }
      if (typeof content === 'string') write(content)
      else content(write)
    } finally {
      closeSync(fd)
    }
  } catch (e) {
    discard()
    if (e instanceof PipelockError) throw e
    throw new PipelockError('WRITE_FAILED', `cannot write ${dest}: ${(e as Error).message}`)
  }
  return {
    commit(receiptFile, receiptLines) {
      try {
        if (receiptFile !== undefined && receiptLines.length > 0) appendReceiptLines(receiptFile, receiptLines)
        renameSync(tmp, dest)
      } catch (e) {
        discard()
        if (e instanceof PipelockError) throw e
        throw new PipelockError('WRITE_FAILED', `cannot write ${dest}: ${(e as Error).message}`)
      }
    },
    discard,
  }
}
