/**
 * Client messages pipelock can no longer serve: the upstream could not be started or reached (the
 * stdio server did not spawn, the WebSocket dial failed), or the stdio server has exited. A
 * client usually writes `initialize` as soon as it has started pipelock; when the run then ended
 * without reading it, the client read EOF with no answer. Each request it has written, or writes
 * within a short bounded time, is answered instead: `-32003` `pipelock: upstream error: <why>`
 * with its id, as the bridges answer any upstream failure (pending.ts). A notification or a
 * response gets nothing (nothing waits for an answer to it). Nothing is forwarded anywhere.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {PipelockError} from '../errors/index.js'
import {errorLine, mcpError, parseFrame, trimGoSpace} from '../mcp/index.js'
import {lineMessages} from './line-messages.js'
import {readLines} from './line-reader.js'
import {writeLine} from './line-writer.js'
import type {StdioClientSide} from './runtime.js'

/** True when `p` settles within `ms`; the timer is cleared either way (it never holds the process). */
export async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  const ac = new AbortController()
  try {
    return await Promise.race([p.then(() => true), sleep(ms, false, {signal: ac.signal}).catch(() => false)])
  } finally {
    ac.abort()
  }
}

/** How long a client whose stdin stays open is read for requests to answer before the run ends. */
export const UNSERVED_READ_MS = 1000

/** The answer to `raw` when it is a request with an id (a message written over several lines included); else null. */
function unservedAnswer(raw: string, why: string): string | null {
  if (trimGoSpace(raw) === '') return null
  const f = parseFrame(raw)
  if (!f.hasMethod || f.isResponse || f.id === null) return null
  return errorLine(f.id, mcpError('upstream', why))
}

/** Answers `raw` on `out` when it is a request with an id (`unservedAnswer`). */
export async function answerUnservedOne(raw: string, why: string, out: StdioClientSide['clientOut'], log: StdioClientSide['log']): Promise<void> {
  const answer = unservedAnswer(raw, why)
  if (answer !== null) await writeLine(out, answer, log)
}

/**
 * Answers every request readable from `clientIn` until it ends or UNSERVED_READ_MS have passed,
 * whichever is first, then lets go of it (a client that keeps stdin open does not keep the run alive).
 */
async function answerUnserved(o: Pick<StdioClientSide, 'clientIn' | 'clientOut' | 'log'>, why: string): Promise<void> {
  o.clientOut.on('error', () => {}) // EPIPE: the client has gone, nothing to tell it
  const timer = setTimeout(() => o.clientIn.destroy(), UNSERVED_READ_MS)
  try {
    for await (const raw of lineMessages(readLines(o.clientIn))) await answerUnservedOne(raw, why, o.clientOut, o.log)
  } catch {
    // stdin let go of at the deadline (or it broke): what was read is answered
  } finally {
    clearTimeout(timer)
    o.clientIn.destroy()
  }
}

/**
 * The upstream could not be started or reached (`why`): the requests the client has written, or
 * writes within a short time, are answered (it may have written its initialize already, and would
 * otherwise read EOF), then the run fails with `MCP_SERVER_START_FAILED`.
 */
export async function failUnserved(o: Pick<StdioClientSide, 'clientIn' | 'clientOut' | 'log'>, why: string): Promise<never> {
  await answerUnserved(o, why)
  throw new PipelockError('MCP_SERVER_START_FAILED', why)
}
