export {MAX_IN_FLIGHT_BYTES, MAX_WORKERS, WorkerPool, type JobEnvelope, type ReplyEnvelope, type WorkerPoolOptions, type WorkerPoolStats} from './pool.js'
export {LazyWorkerPool} from './lazy-pool.js'
export {serveJobs} from './serve.js'
export {OFFLOAD_THRESHOLD_BYTES, offloadedBytes} from './threshold.js'
