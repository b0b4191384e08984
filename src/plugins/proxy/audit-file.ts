/**
 * `logging.output: file|both`: the audit log's file. The audit log hands it one chunk of lines per
 * event-loop turn (audit-log.ts); each chunk is appended whole or not at all (appendWhole), so a
 * disk that fills mid-write never leaves half a JSON line that the next line would join. A chunk
 * the disk refuses is counted and lost; the next one is tried as usual, so the file is written
 * again as soon as the disk takes bytes, and the operator is told when writing stops and when it
 * works again (write-health.ts). A file that cannot be opened refuses start-up (it was ignored).
 * A missing directory is created first (LOG_DIR_MODE, as the recorder makes its own): `pipelock
 * check` says so, and refused it before, where start-up did.
 */
import {closeSync, constants, openSync} from 'node:fs'
import path from 'node:path'
import {LOG_DIR_MODE} from '../config/index.js'
import {PipelockError} from '../errors/index.js'
import {appendWhole, type TornTail} from '../receipts/index.js'
import {WriteStreak, type WriteHealthChange} from '../recorder/index.js'
import {makeDirs} from '../signing/index.js'
import type {AuditWriter} from './audit-log.js'
import type {WriteHealth} from './write-health.js'

export class AuditFile implements AuditWriter, WriteHealth {
  private fd: number
  private readonly torn: TornTail = {bytes: 0}
  private readonly health: WriteStreak

  constructor(
    readonly file: string,
    onHealth: (change: WriteHealthChange) => void,
  ) {
    this.health = new WriteStreak(onHealth)
    const dir = path.dirname(file)
    try {
      makeDirs(dir, LOG_DIR_MODE)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `logging.file: cannot create the directory ${dir} of ${file}: ${(e as Error).message}`)
    }
    try {
      this.fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `logging.file: cannot open ${file}: ${(e as Error).message}`)
    }
  }

  get writeFailures(): number {
    return this.health.writeFailures
  }

  get failing(): boolean {
    return this.health.failing
  }

  write(chunk: string): void {
    if (this.fd < 0) return
    try {
      appendWhole(this.fd, chunk, this.torn)
    } catch (e) {
      this.health.failed(e, countLines(chunk))
      return
    }
    this.health.worked()
  }

  close(): void {
    if (this.fd < 0) return
    closeSync(this.fd)
    this.fd = -1
  }
}

function countLines(chunk: string): number {
  let n = 0
  for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) n++
  return n
}
