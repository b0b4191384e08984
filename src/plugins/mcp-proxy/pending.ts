/**
 * A stdio client's session ended before the server answered everything (the server exited or
 * crashed, a stream broke, the WebSocket upstream closed): each request still waiting is answered
 * `-32003` `pipelock: upstream error: session ended before the server answered`, with its id, so
 * the client is told rather than left waiting for ever.
 */
import {errorLine, mcpError, type McpSessionState} from '../mcp/index.js'

/** Why a request the server will never answer is answered by pipelock. */
export const ENDED = 'session ended before the server answered'

/** The answer lines, oldest request first; each id is answered once. */
export function pendingAnswers(state: McpSessionState): string[] {
  const err = mcpError('upstream', ENDED)
  return state.tracker.pendingRequests().filter((id) => state.tracker.consume(id)).map((id) => errorLine(id, err))
}
