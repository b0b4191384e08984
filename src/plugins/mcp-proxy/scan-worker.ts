import {serveJobs} from '../workers/index.js'
import {scanJobHandler} from './scan-job.js'

// Worker side of McpScanPool (scan-pool.ts): one answer per job, in order.
serveJobs(scanJobHandler)
