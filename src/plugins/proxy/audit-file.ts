/**
 * `logging.output: file|both`: the audit log's file. The audit log hands it one chunk of lines per
 * event-loop turn (audit-log.ts); each chunk is appended whole or not at all (appendWhole), so a
 * disk that fills mid-write never leaves half a JSON line that the next line would join. A chunk
 * the disk refuses is counted and lost; the next one is tried as usual, so the file is written
 * again as soon as the disk takes bytes, and the operator is told when writing stops and when it
 * works again (write-health.ts). A file that cannot be opened refuses start-up (it was ignored).
 */
import {closeSync, constants, openSync} from 'node:fs'
import {PipelockError} from '../errors/index.js'
import {appendWhole, type TornTail} from '../receipts/index.js'
import type {WriteHealthChange} from '../recorder/index.js'
import type {AuditWriter} from './audit-log.js'
import type {WriteHealth} from './write-health.js'

export class AuditFile implements AuditWriter, WriteHealth {
  private fd: number
  private readonly torn: TornTail = {bytes: 0}
  private streak = 0
  private lost = 0
  private lastError = ''

  constructor(
    readonly file: string,
    private readonly onHealth: (change: WriteHealthChange) => void,
  ) {
    try {
      this.fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o600)
    } catch (e) {
      throw new PipelockError('WRITE_FAILED', `logging.file: cannot open ${file}: ${(e as Error).message}`)
    }
  }

  get writeFailures(): number {
    return this.lost
  }

  get failing(): boolean {
    return this.streak > 0
  }

  write(chunk: string): void {
    if (this.fd < 0) return
    const lines = countLines(chunk)
    try {
      appendWhole(this.fd, chunk, this.torn)
    } catch (e) {
      this.lost += lines
      this.lastError = (e as Error).message
      const first = this.streak === 0
      this.streak += lines
      if (first) this.onHealth({failing: true, error: this.lastError, lost: lines})
      return
    }
    if (this.streak > 0) {
      const lost = this.streak
      this.streak = 0
      this.onHealth({failing: false, error: this.lastError, lost})
    }
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
