/**
 * What an HTTP request asks the upstream to do, as the taint matrix and the airlock judge it: not
 * its request line alone. A method override (`X-HTTP-Method-Override: DELETE`, `?_method=PUT`,
 * enforcement/method-override.ts) names the method a framework performs, and a read that carries
 * a body (`GET` with a JSON body) sends data out as a POST does.
 */
import {methodOverrides} from '../../enforcement/index.js'
import {MUTATING_METHODS, READ_METHODS} from '../../sessions/index.js'
import {requestHasBody} from '../request-body.js'
import type {RequestGateContext} from './context.js'

export interface JudgedAction {
  /** The method judged (upper case): the request line's, or the override's that names more. */
  readonly method: string
  /** True for a read method whose request carries a body: judged as a write of that method. */
  readonly carriesBody: boolean
}

/**
 * The most side-effecting method the request line and its overrides name (a mutating method
 * first, then any other non-read, an override that is no method token included), or the read
 * method with `carriesBody` when the request carries a body; null for a bodiless read. /fetch
 * sends a bodiless GET of its own (fetch-handler.ts): the agent's headers and body never reach the
 * upstream there, so its request line is what is done.
 */
export function judgedAction(ctx: Pick<RequestGateContext, 'method' | 'req' | 'contractUrl' | 'hasBody' | 'b'>): JudgedAction | null {
  // The session and taint stages both ask: read once per request.
  const known = JUDGED.get(ctx)
  if (known !== undefined) return known
  const judged = judge(ctx)
  JUDGED.set(ctx, judged)
  return judged
}
const JUDGED = new WeakMap<object, JudgedAction | null>()

function judge(ctx: Pick<RequestGateContext, 'method' | 'req' | 'contractUrl' | 'hasBody' | 'b'>): JudgedAction | null {
  const fetch = ctx.b.transport === 'fetch'
  const methods = [ctx.method.toUpperCase(), ...(fetch ? [] : methodOverrides(ctx.method, {headers: ctx.req.headers, url: ctx.contractUrl}))]
  const method = methods.find((m) => MUTATING_METHODS.has(m)) ?? methods.find((m) => !READ_METHODS.has(m))
  if (method !== undefined) return {method, carriesBody: false}
  return !fetch && requestHasBody(ctx.req, ctx.hasBody) ? {method: methods[0]!, carriesBody: true} : null
}
