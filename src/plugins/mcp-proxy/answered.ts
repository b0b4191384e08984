/**
 * Whether a server message read from a POST's answer is the response to the request that POST
 * carried: a response (no method) whose id is the request's, compared as raw JSON text. A server
 * request that reuses the id (a sampling request with id 1) answers nothing.
 */
import {parseFrame} from '../mcp/index.js'

export function answersRequest(data: string, id: string): boolean {
  const f = parseFrame(data)
  return f.isResponse && f.id === id
}
