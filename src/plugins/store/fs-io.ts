import {closeSync, constants, fstatSync, lstatSync, openSync, readSync} from 'node:fs'
import {PipelockError} from '../errors/index.js'
import {makeDirs, writeFileAtomic} from '../signing/index.js'
import {appendWhole} from '../receipts/index.js'

// File primitives of the store: no-follow reads, write-once objects, append-only lines.

export const STORE_DIR_MODE = 0o750
export const STORE_FILE_MODE = 0o600

/**
 * Size caps of what the store reads (the proxy reads active.json, manifests and contracts on its
 * own thread at start-up and on every store reload): a store JSON object (active manifest,
 * accepted manifest, policy, tombstone) is a few KiB, a contract a few MiB at most. Anything
 * larger is refused with its size, never read into memory.
 */
export const STORE_JSON_MAX_BYTES = 1024 * 1024
export const STORE_CONTRACT_MAX_BYTES = 16 * 1024 * 1024
/** The append-only journal and receipt files: one line per swap, ~0.5 KiB each. */
export const STORE_LOG_MAX_BYTES = 64 * 1024 * 1024

/** The bytes of a regular file that is not a symlink, or undefined when it does not exist; over `maxBytes` is refused. */
export function readRegularFile(file: string, what: string, maxBytes = STORE_JSON_MAX_BYTES): Buffer | undefined {
  let st
  try {
    st = lstatSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new PipelockError('STORE_INVALID', `contract store: ${what} ${file}: ${(e as Error).message}`)
  }
  if (!st.isFile()) throw new PipelockError('STORE_INVALID', `contract store: ${what} ${file} must be a regular file`)
  let fd: number
  try {
    // O_NOFOLLOW: a symlink swapped in after the lstat is refused by the kernel.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (e) {
    throw new PipelockError('STORE_INVALID', `contract store: ${what} ${file}: symlink raced into place or unreadable: ${(e as Error).message}`)
  }
  const tooLarge = (size: number | string): PipelockError =>
    new PipelockError('STORE_INVALID', `contract store: ${what} ${file} is ${size} bytes, over the ${maxBytes}-byte cap: refusing to read it`, {hint: 'a store file this large is not one pipelock wrote; restore it from a backup'})
  try {
    const fst = fstatSync(fd)
    if (!fst.isFile()) throw new PipelockError('STORE_INVALID', `contract store: ${what} ${file} must be a regular file`)
    if (fst.size > maxBytes) throw tooLarge(fst.size)
    // Read at most maxBytes + 1, whatever the file grows to after the fstat.
    const buf = Buffer.allocUnsafe(Math.min(fst.size, maxBytes) + 1)
    let n = 0
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
      if (n === buf.length) {
        if (n > maxBytes) throw tooLarge(`more than ${maxBytes}`)
        break
      }
    }
    return buf.subarray(0, n)
  } finally {
    closeSync(fd)
  }
}

export function ensureDir(dir: string): void {
  makeDirs(dir, STORE_DIR_MODE)
  const st = lstatSync(dir)
  if (!st.isDirectory()) throw new PipelockError('STORE_INVALID', `contract store: ${dir} must be a directory, not a symlink`)
}

/** Write-once (§5.3): identical bytes succeed, different bytes are a conflict, else atomic write. */
export function writeOnce(file: string, data: Buffer): void {
  const existing = readRegularFile(file, 'object', Math.max(STORE_CONTRACT_MAX_BYTES, data.length))
  if (existing !== undefined) {
    if (existing.equals(data)) return
    throw new PipelockError('STORE_INVALID', `contract store: write-once object already exists with different bytes: ${file}`)
  }
  writeFileAtomic(file, data, STORE_FILE_MODE)
}

/**
 * Appends one line with O_APPEND (one write: concurrent appenders never interleave a line), whole
 * or not at all: a write the disk cuts short is cut back off (`appendWhole`), so the journal and
 * the receipt files never end in a line their readers cannot decode.
 */
export function appendLine(file: string, line: string): void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, STORE_FILE_MODE)
  try {
    appendWhole(fd, Buffer.from(line.endsWith('\n') ? line : line + '\n', 'utf8'), {bytes: 0})
  } finally {
    closeSync(fd)
  }
}

