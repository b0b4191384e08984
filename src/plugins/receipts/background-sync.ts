import {close, constants, fsync, open} from 'node:fs'
import {PipelockError} from '../errors/index.js'

// Checkpoint fsyncs off the event loop (bench: learn-lock). An evidence
// file is written line by line with writeSync, so a line is in the file (and survives a kill -9)
// before the response it records leaves; the fsync at a checkpoint only makes the file durable
// across a power loss, and no response waits for it. Done synchronously it stalled the proxy's
// event loop for 2–16 ms every 1,000 decisions (more when other processes write to the disk),
// which made the recorder's and capture's cost vary from run to run. Rotation and close still
// fsync synchronously. The background fsync opens the file anew (an fsync flushes the file, on
// whichever descriptor), so the writer can rotate or close its own descriptor meanwhile.

export class BackgroundSync {
  private failure: PipelockError | undefined
  private pending = 0

  /** Starts an fsync of `file` on libuv's thread pool (open, fsync, close). */
  request(file: string): void {
    this.pending++
    const done = (e: NodeJS.ErrnoException | null): void => {
      this.pending--
      if (e !== null) this.failure ??= new PipelockError('WRITE_FAILED', `background fsync of ${file}: ${e.message}`)
    }
    open(file, constants.O_RDONLY | constants.O_NOFOLLOW, (e, fd) => {
      if (e !== null) return done(e)
      fsync(fd, (se) => close(fd, (ce) => done(se ?? ce)))
    })
  }

  /** fsyncs not finished yet. */
  get inFlight(): number {
    return this.pending
  }

  /** Throws, once, the first failure of an earlier background fsync (the writer's next append fails with it). */
  check(): void {
    const e = this.failure
    if (e === undefined) return
    this.failure = undefined
    throw e
  }
}
