/**
 * Whether an agent's answer can no longer be written. An HTTP/1.1 response says it itself
 * (`destroyed`); Node's HTTP/2 compat response (an intercepted tunnel's inner answer, typed as
 * the HTTP/1.1 one along the shared pipeline) has no `destroyed` — read there it is always
 * undefined, so a relay kept reading an upstream event stream after the agent reset its stream
 * or closed its tunnel — and its stream says it instead.
 */
import type {ServerResponse} from 'node:http'
import type {Http2ServerResponse} from 'node:http2'

export function answerGone(res: ServerResponse | Http2ServerResponse): boolean {
  return 'stream' in res ? res.stream.destroyed : res.destroyed
}
