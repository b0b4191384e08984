import {parentPort, workerData} from 'node:worker_threads'
import {scanJobHandler} from './scan-job.js'
import type {ScanJob, ScanWorkerInit} from './scan-pool.js'

// Worker side of McpScanPool (scan-pool.ts): one answer per job, in order.
const handle = scanJobHandler(workerData as ScanWorkerInit)
parentPort?.on('message', (job: ScanJob) => parentPort?.postMessage(handle(job)))
