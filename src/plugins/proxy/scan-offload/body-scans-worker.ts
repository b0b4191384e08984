import {serveJobs} from '../../workers/index.js'
import {bodyScanHandler} from './jobs.js'

// Worker side of BodyScans (body-scans.ts): one answer per job, in order.
serveJobs(bodyScanHandler)
