import {parentPort, workerData} from 'node:worker_threads'
import {parseFrame, requestFrame, scanRequest, scanResponseFrame, ToolScanner, type MediaCheck} from '../mcp/index.js'
import {applyMediaPolicy} from '../proxy/index.js'
import {createScanner} from '../scanner/index.js'
import type {ScanJob, ScanReply, ScanWorkerInit} from './scan-pool.js'

// Worker side of McpScanPool (scan-pool.ts): compiles the scanner once from the settings it was
// started with (plain data, cloned from the runtime's scanner), then answers one content scan per
// message: the request pipeline's `scanRequest` of the message's `requestFrame`, or the response
// pipeline's `scanResponseFrame`. Both are pure functions of the text and the settings, so the
// answer is the one the event-loop thread would compute.

const init = workerData as ScanWorkerInit
const scanner = createScanner(init.scanner)
const toolScanner = new ToolScanner(scanner)
const mediaSettings = init.media
const media: MediaCheck | null = mediaSettings === null ? null : (contentType, body) => applyMediaPolicy(mediaSettings, contentType, body)

parentPort?.on('message', (job: ScanJob) => {
  let reply: ScanReply
  try {
    reply = job.kind === 'request'
      ? {id: job.id, request: scanRequest(scanner, requestFrame(job.raw), init.input)}
      : {id: job.id, response: scanResponseFrame({scanner, toolScanner, media}, init.toolScan, parseFrame(job.raw))}
  } catch (e) {
    reply = {id: job.id, error: (e as Error).message}
  }
  parentPort?.postMessage(reply)
})
