/**
 * The scan offload's counters for `/metrics`: bodies (and scan API fields) scanned on the pool,
 * scans the pool could not run (each of those was refused: fail closed) and those scanned on the
 * event loop because the pool was full (or, for `/fetch`'s page text, not a verdict, because the
 * pool could not read it), by surface; and the current pool's threads and the bytes
 * queued for or running on it. One set per process: a reload gives the new snapshot
 * a new pool, the counts go on.
 */
import type {WorkerPoolStats} from '../../workers/index.js'
import {renderFamily} from '../metrics.js'

export type OffloadSurface = 'request_body' | 'response_body' | 'git_push' | 'scan_api'
export type OffloadOutcome = 'scanned' | 'failed' | 'inline'

export class OffloadCounters {
  private readonly counts = new Map<string, number>()

  record(surface: OffloadSurface, outcome: OffloadOutcome): void {
    const k = `${surface}\u0000${outcome}`
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1)
  }

  /** The families, with `pool` the current snapshot's pool (null: not started). */
  render(out: string[], pool: WorkerPoolStats | null): void {
    const samples: Array<readonly [Record<string, string>, number]> = []
    for (const surface of ['request_body', 'response_body', 'git_push', 'scan_api'] as const) {
      for (const outcome of ['scanned', 'failed', 'inline'] as const) samples.push([{surface, outcome}, this.counts.get(`${surface}\u0000${outcome}`) ?? 0])
    }
    renderFamily(out, 'pipelock_scan_offload_total', 'HTTP bodies, WebSocket messages and scan API fields over 64 KiB, and git pushes, by surface and outcome: scanned on the scan pool (outside the event loop), failed there (refused), or scanned inline because the pool was full (a /fetch page text a thread could not read is read inline too).', 'counter', samples)
    renderFamily(out, 'pipelock_scan_offload_threads', 'Scan pool threads alive now.', 'gauge', [[{}, pool?.workers ?? 0]])
    renderFamily(out, 'pipelock_scan_offload_in_flight_bytes', 'Bytes of bodies queued for or being scanned on the scan pool now.', 'gauge', [[{}, pool?.inFlightBytes ?? 0]])
  }
}
