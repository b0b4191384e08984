/**
 * The exception step of the one gate (issue 14, operations.md §8.3 [beyond]): the `exception`
 * settle stage (gate/stages/exception.ts) runs it after a stage — the URL checks, header or body
 * DLP, address protection — stated an enforced block it may waive, before that block is answered.
 * A matching exception in force is used once and the request goes on through the rest of the
 * order — session/adaptive/airlock, header DLP, cross-request, contract, budget — each of which
 * can still block it. The kill switch ran before and is never reached here.
 * The request's RequestRecord keeps the use until its next Decision, which carries it: the
 * audit log writes `exception_used`, metrics count it, the flight recorder signs it — once.
 */
import {goHostname, parseGoUrl} from '../canonical/index.js'
import type {DecisionBase} from './core.js'
import type {ExceptionsPort} from './ports.js'
import type {ExceptionTarget, ExceptionUse} from './exception-rules.js'

/** What blocked: the scanner label, the reason code and the DLP pattern names found. */
export interface BlockFinding {
  readonly layer: string
  readonly reason: string | null
  readonly findings: readonly {readonly pattern: string}[]
}

/**
 * Whether the request's name may claim an agent-scoped exception: the deployment bound it (an agent
 * listener or a source CIDR, `bound`), or the config gave it (`default_agent_identity`). A name the
 * client sent (`X-Pipelock-Agent`, `?agent=`) never does, even when it names a configured profile
 * (`matched` but declared): it is a claim, and a claim must not spend an operator's waiver.
 */
function agentBound(b: Pick<DecisionBase, 'auth' | 'bound'>): boolean {
  return b.bound === true || b.auth === 'config-default'
}

/** The parts of a blocked request an exception can name. */
export function exceptionTarget(b: Pick<DecisionBase, 'agent' | 'auth' | 'bound'>, url: string, scan: BlockFinding): ExceptionTarget {
  let host = ''
  let path = '/'
  try {
    const u = parseGoUrl(url)
    host = goHostname(u.host).toLowerCase()
    path = u.path === '' ? '/' : u.path
  } catch {
    host = ''
  }
  return {
    host, path, layer: scan.layer, reason: scan.reason ?? '', patterns: scan.findings.map((f) => f.pattern),
    agent: b.agent, agentBound: agentBound(b),
  }
}

/** Uses a matching exception for an enforced scanner block; undefined when none applies. */
export function waiveBlock(ports: ExceptionsPort, b: Pick<DecisionBase, 'agent' | 'auth' | 'bound'>, url: string, scan: BlockFinding): ExceptionUse | undefined {
  const store = ports.exceptions
  if (store == null) return undefined
  const t = exceptionTarget(b, url, scan)
  if (t.host === '') return undefined
  return store.consume(t)
}
