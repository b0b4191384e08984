/**
 * The Decision base of a request a listener accepted: its id, its start on the clock, and who sent
 * it (operations.md §2.2, resolved once per request: the listener's bound profile, a source CIDR,
 * the `X-Pipelock-Agent` header, the `/fetch` query). Built by the composition root; the listeners
 * call it before a transport starts, and the session API's `whoami` reads the same resolution.
 */
import type {IncomingMessage} from 'node:http'
import {contractSelector} from './agent-listeners.js'
import type {DecisionBase} from './core.js'
import type {Transport} from './decision.js'
import {clientIpOf, isBound, sessionKey, type AgentIdentity} from './identity.js'
import type {AuditTrail, Clock, MetricsPort, RequestIds, SnapshotSource} from './ports.js'

/** What resolving a request's base uses: the snapshot (agent names, contract selection), ids, the clock, and the trail of a rejected name. */
export type RequestBasePorts = SnapshotSource & RequestIds & Clock & AuditTrail & MetricsPort

export class RequestBases {
  /** Sockets accepted on an agent listener → the listener's profile (operations.md §2.7, row 1). */
  private readonly boundSockets = new WeakMap<object, string>()

  constructor(private readonly ports: RequestBasePorts) {}

  /** Binds a socket accepted on an agent listener to that listener's profile. */
  bindSocket(socket: object, profile: string): void {
    this.boundSockets.set(socket, profile)
  }

  of(req: IncomingMessage, transport: Transport, queryAgent?: string): DecisionBase {
    const clientIp = clientIpOf(req.socket.remoteAddress)
    const id = this.identityOf(req, clientIp, queryAgent, this.boundSockets.get(req.socket))
    const agent = id.name
    return {
      requestId: this.ports.nextRequestId(), transport, method: req.method ?? '', agent, clientIp, sessionKey: sessionKey(agent, clientIp), startMs: this.ports.nowMs(),
      profile: id.profile, auth: id.auth, ...contractSelector(this.ports.snapshot().config, id), bound: isBound(id),
      ...(id.refused !== undefined ? {identityRefused: id.refused} : {}),
    }
  }

  /** operations.md §2.2, resolved once per request; a self-declared name DLP flags becomes `anonymous`, counted and audited (never echoed). */
  identityOf(req: IncomingMessage, clientIp: string, queryAgent: string | undefined, bound: string | undefined): AgentIdentity {
    const header = req.headers['x-pipelock-agent']
    const r = this.ports.snapshot().agentNames.resolve({...(bound !== undefined ? {bound} : {}), clientIp, header: Array.isArray(header) ? header[0] : header, ...(queryAgent !== undefined ? {query: queryAgent} : {})})
    if (r.rejected) {
      this.ports.metrics.agentNamesRejected.inc({reason: 'dlp'})
      this.ports.audit.event('warn', 'agent_name_rejected', 'agent name looks like a secret; using anonymous', {client_ip: clientIp})
    }
    return r.identity
  }
}
