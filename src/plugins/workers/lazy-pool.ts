/**
 * A `WorkerPool` made on the first job (`stats()` is null until then: nothing was started), that a
 * reload can retire and a shutdown close. A job after `close` makes a fresh pool; one after
 * `retire` still runs, and its threads end once idle. What the MCP offload and the proxy's body
 * scans hold, each with its own jobs.
 */
import type {WorkerPool, WorkerPoolStats} from './pool.js'

export class LazyWorkerPool<Job, Reply, Init> {
  private pool: WorkerPool<Job, Reply, Init> | null = null
  private retired = false

  constructor(private readonly make: () => WorkerPool<Job, Reply, Init>) {}

  run(job: Job, bytes: number): Promise<Reply> {
    if (this.pool === null) {
      this.pool = this.make()
      if (this.retired) this.pool.retire()
    }
    return this.pool.run(job, bytes)
  }

  /** Whether a job of `bytes` would be taken now (`WorkerPool.hasRoom`; a pool not made yet takes any one). */
  hasRoom(bytes: number): boolean {
    return this.pool === null || this.pool.hasRoom(bytes)
  }

  /** The pool's counters, or null when no job ever came. */
  stats(): WorkerPoolStats | null {
    return this.pool?.stats() ?? null
  }

  /** The config this pool scans with was replaced: its threads end once the jobs queued or running are answered. */
  retire(): void {
    this.retired = true
    this.pool?.retire()
  }

  async close(): Promise<void> {
    const p = this.pool
    this.pool = null
    await p?.close()
  }
}
