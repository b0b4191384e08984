/**
 * `pipelock mcp proxy --upstream ws(s)://…` (spec mcp.md §3.4): a stdio MCP client talks to a
 * WebSocket JSON-RPC server. One text frame per message each way, every message through the one
 * request / response decision. Frame rules: data frames ≤ 10 MiB (close 1009), binary frames
 * refused (close 1008), invalid UTF-8 (close 1007), pings answered, fragments reassembled — `ws`
 * enforces the protocol-level ones (it is the maintained WebSocket implementation for Node; the
 * built-in client of Node 20 has no payload limit). The dial offers the `mcp` subprotocol (fix
 * Q52).
 */
import {upstreamErrorText} from './upstream-error.js'
import WebSocket from 'ws'
import {PipelockError} from '../errors/index.js'
import {liveCutDecision, liveCutWords, newSessionState, trimGoSpace, type McpContext} from '../mcp/index.js'
import {MAX_LINE_BYTES, readLines} from './line-reader.js'
import type {StdioClientSide} from './runtime.js'
import {lineMessages} from './line-messages.js'
import {SerialLane} from './scan-lane.js'
import {CallCuts} from './call-cuts.js'
import {ENDED, pendingAnswers} from './pending.js'
import {answerUnservedOne, failUnserved, UNSERVED_READ_MS, within} from './unserved.js'

export interface WsBridgeOptions extends StdioClientSide {
  readonly upstream: string
}

export async function runWsBridge(o: WsBridgeOptions): Promise<number> {
  const ws = new WebSocket(o.upstream, ['mcp'], {maxPayload: MAX_LINE_BYTES, perMessageDeflate: false, followRedirects: false})
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`bad handshake (HTTP ${res.statusCode})`)))
    })
  } catch (err) {
    ws.terminate()
    return await failUnserved(o, `connecting to upstream: ws dial ${o.upstream}: ${upstreamErrorText(err)}`)
  }
  const ctx: McpContext = {settings: o.runtime.settings, deps: o.runtime.deps, state: newSessionState(o.runtime.settings, 'mcp_ws', 'ws-stdio')}
  let failure: string | null = null
  const serverLane = new SerialLane()
  o.clientOut.on('error', () => {}) // EPIPE once the client has gone: the read side ends the run
  // Calls waiting on the server are cut by the kill switch (the connection stays: later messages
  // meet the gate) and answered when the session cuts the connection (below), as the stdio wrap's.
  const calls = new CallCuts(ctx, o.runtime.killSwitch, {record: (d) => o.recorder.record(d), answer: (line) => void o.clientOut.write(line + '\n'), log: o.log, session: false})
  // The close code when the upstream closed the connection itself (null: the bridge closed it).
  let closing = false
  let upstreamClose: {code: number; reason: string} | null = null
  const closed = new Promise<void>((resolve) => ws.once('close', (code, reason) => {
    if (!closing) upstreamClose = {code, reason: reason.toString('utf8')}
    resolve()
  }))
  ws.on('error', (err) => {
    failure ??= `upstream read: ${err.message}`
  })
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      failure ??= 'upstream read: binary frames not allowed'
      ws.close(1008, 'binary frames not allowed')
      return
    }
    const text = (data as Buffer).toString('utf8')
    // Frames are decided in arrival order: a small frame waits for a large one on the scan pool.
    void serverLane.run(async () => {
      // The server's answer to a call that was cut (answered already) is dropped unread; the
      // answer to a call sent under a reissued id gets the client's id back.
      const up = calls.fromUpstream(text)
      if (up.drop) return
      const d = await o.runtime.offload.decideResponse(ctx, up.raw)
      // A cut while it was being decided (on the scan pool): dropped too.
      if (calls.answered(d, up.upstreamId)) return
      o.recorder.record(d)
      if (d.forward !== null) o.clientOut.write(d.forward + '\n')
      if (d.answer !== null && ws.readyState === WebSocket.OPEN) ws.send(d.answer)
    }).catch((err: Error) => {
      failure ??= `scanning: ${err.message}`
      ws.close(1011, 'internal error')
    })
  })

  // Operations §6 item 4 on MCP: the WebSocket is live work of the invocation session (opened
  // by its first message). Entering airlock hard or drain, a reset or a terminate cuts it, as the
  // HTTP proxy cuts a WebSocket: each call still waiting on the server is answered with the cut's
  // error, one block Decision and receipt each (one for the connection when none waits), then
  // close 1008 — which ends the bridge like any upstream close.
  let registered = false
  const register = (): void => {
    const sess = ctx.state.session
    if (registered || sess == null || sess.registerLive === undefined) return
    registered = true
    const unregister = sess.registerLive((cause) => {
      if (ws.readyState !== WebSocket.OPEN) return
      if (calls.cutSession(cause) === 0) o.recorder.record(liveCutDecision(ctx, {id: null, method: '', tool: ''}, cause))
      const words = liveCutWords(cause)
      failure ??= `upstream: connection cut: session ${sess.key} ${words}`
      // The origin is told the cause too, as the HTTP proxy's WebSocket relay tells it.
      ws.close(1008, `session ${words}`)
    })
    ws.once('close', unregister)
  }

  const reader = (async () => {
    try {
      // A message the client wrote over several lines comes whole, for the gate to refuse (line-messages.ts).
      for await (const raw of lineMessages(readLines(o.clientIn))) {
        if (trimGoSpace(raw) === '') continue
        if (ws.readyState !== WebSocket.OPEN) {
          // Written after the connection ended: nothing will answer it but this (unserved.ts).
          await answerUnservedOne(raw, ENDED, o.clientOut, o.log)
          continue
        }
        const d = await o.runtime.offload.decideRequest(ctx, raw)
        o.recorder.record(d)
        register()
        if (d.answer !== null) o.clientOut.write(d.answer + '\n')
        if (d.forward === null) continue
        const text = calls.forwarded({...d, forward: d.forward})
        await new Promise<void>((resolve) => ws.send(text, (err) => {
          if (err) failure ??= `upstream write: ${err.message}`
          resolve()
        }))
        if (failure !== null) break
      }
    } catch (err) {
      failure ??= `reading input: ${(err as Error).message}`
    }
  })()
  // Either side ending (or a stop signal) ends the run.
  await Promise.race([reader, closed, ...(o.stop ? [o.stop] : [])])
  calls.stop()
  closing = true
  if (ws.readyState === WebSocket.OPEN) ws.close(1000)
  const t = setTimeout(() => ws.terminate(), 2000)
  await closed
  clearTimeout(t)
  // Frames received before the close are still decided and delivered (or blocked) in order.
  await serverLane.run(() => undefined)
  // Then every request the server never answered is (the upstream closed mid-call, or the run stopped).
  for (const line of pendingAnswers(ctx.state)) o.clientOut.write(line + '\n')
  // The client may still be writing: what it writes within a short time is answered, then stdin is let go of.
  await within(reader, UNSERVED_READ_MS)
  o.clientIn.destroy()
  // The upstream went away on its own, without a normal close (1000, or a close frame with no
  // code): the connection was lost, not ended — as a server's crash ends the stdio wrap non-zero.
  const lost = upstreamClose as {code: number; reason: string} | null
  if (lost !== null && lost.code !== 1000 && lost.code !== 1005) failure ??= `upstream closed the connection (code ${lost.code}${lost.reason === '' ? '' : `: ${lost.reason}`})`
  if (failure !== null) {
    o.log(`pipelock: ${failure}`)
    throw new PipelockError('MCP_STREAM_FAILED', failure)
  }
  return 0
}
