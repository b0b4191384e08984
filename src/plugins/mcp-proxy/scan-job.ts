import {parseFrame, pooledRedaction, redactCallArguments, requestFrame, scanRequest, scanResponseFrame, ToolScanner, type MediaCheck} from '../mcp/index.js'
import {Redactor} from '../redaction/index.js'
import {applyMediaPolicy} from '../proxy/index.js'
import {createScanner} from '../scanner/index.js'
import type {ScanJob, ScanReply, ScanWorkerInit} from './scan-pool.js'

/**
 * What a scan-pool worker does with each job (scan-worker.ts registers it): compiles the scanner
 * once from the settings it was started with (plain data, cloned from the runtime's scanner), then
 * answers one content scan per message: the request pipeline's `scanRequest` of the message's
 * `requestFrame` (its `tools/call` arguments redacted first when `redaction` is on, with a
 * redactor made from the runtime's on the first call), or the response pipeline's
 * `scanResponseFrame`. Both are pure functions of the text and the settings, so the answer is the
 * one the event-loop thread would compute. What a scan throws is the job's error (`serveJobs`):
 * the caller blocks the message with it.
 */
export function scanJobHandler(init: ScanWorkerInit): (job: ScanJob) => ScanReply {
  const scanner = createScanner(init.scanner)
  const toolScanner = new ToolScanner(scanner)
  const settings = init.media
  const media: MediaCheck | null = settings === null ? null : (contentType, body) => applyMediaPolicy(settings, contentType, body)
  const source = init.redaction ?? null
  let redactor: Redactor | undefined
  return (job) => {
    if (job.kind !== 'request') return {response: scanResponseFrame({scanner, toolScanner, media}, init.toolScan, parseFrame(job.raw))}
    // A call's arguments are redacted before the content scan, which reads what is forwarded.
    const frame = requestFrame(job.raw)
    const red = source === null ? null : redactCallArguments((redactor ??= new Redactor(source.cfg, source.known)), frame)
    return {request: scanRequest(scanner, red !== null && red.kind === 'rewritten' ? red.frame : frame, init.input), redaction: pooledRedaction(red)}
  }
}
