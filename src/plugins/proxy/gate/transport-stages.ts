/**
 * Which stages each transport runs (docs/run.md prints this table as the stage matrix). Every
 * stage of the order appears in every row: a stage object, or the reason the transport skips it.
 * `runGate` follows the order; a row only chooses, it never reorders.
 */
import type {Transport} from '../decision.js'
import type {SettleId, SettleStage, Stage, StageId} from './context.js'
import {SETTLE_ORDER, STAGE_ORDER} from './order.js'
import {addressStage} from './stages/address.js'
import {a2aStage} from './stages/a2a.js'
import {bodyStage} from './stages/body.js'
import {budgetStage} from './stages/budget.js'
import {contractStage} from './stages/contract.js'
import {envelopeStage} from './stages/envelope.js'
import {envelopeVerifyStage} from './stages/envelope-verify.js'
import {exceptionStage} from './stages/exception.js'
import {crossRequestStage} from './stages/cross-request.js'
import {forwardedHeaderDlpStage} from './stages/forwarded-header-dlp.js'
import {gitPushStage} from './stages/git-push.js'
import {headerDlpStage} from './stages/header-dlp.js'
import {identityStage} from './stages/identity.js'
import {killSwitchStage} from './stages/kill-switch.js'
import {modeStage} from './stages/mode.js'
import {redactionStage} from './stages/redaction.js'
import {sessionStage} from './stages/session.js'
import {suppressionStage} from './stages/suppression.js'
import {taintStage} from './stages/taint.js'
import {urlDlpStage} from './stages/url-dlp.js'
import {urlScanStage} from './stages/url-scan.js'

/** Why a transport does not run a stage. */
export interface Skip {
  readonly skip: string
}

export type StageRow = Readonly<Record<StageId, Stage | Skip>>

/** A transport's settle stages (order.ts, `SETTLE_ORDER`): each run, or why not. */
export type SettleRow = Readonly<Record<SettleId, SettleStage | Skip>>

const REVERSE_URL = 'the reverse proxy runs url_dlp instead: its upstream is the operator\'s own, so SSRF, blocklist and rate limits do not apply'
const FULL_URL_SCAN = 'the full URL scan (url_scan) already ran DLP on the URL'

/** An absolute-URI request: every stage of the order but the reverse proxy's URL check. */
const FORWARD_ROW: StageRow = {
  kill_switch: killSwitchStage, identity: identityStage, envelope_verify: envelopeVerifyStage, url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage, taint: taintStage,
  header_dlp: headerDlpStage, redaction: redactionStage, suppression: suppressionStage, body: bodyStage, git_push: gitPushStage, address: addressStage, a2a: a2aStage, cross_request: crossRequestStage, contract: contractStage, budget: budgetStage, envelope: envelopeStage,
}

export const TRANSPORT_STAGES: Readonly<Record<Exclude<Transport, 'intercept'> | 'intercept', StageRow>> = {
  fetch: {
    kill_switch: killSwitchStage, identity: identityStage, envelope_verify: envelopeVerifyStage, url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: '/fetch is GET only: taint authority applies to mutating methods'},
    header_dlp: headerDlpStage, redaction: {skip: '/fetch is GET only: no request body is forwarded, so there is nothing to redact'},
    suppression: {skip: '/fetch is GET only: no request body is scanned; its response findings are suppressed against the display URL by the response scan (fetch-handler.ts)'},
    body: {skip: '/fetch is GET only: no request body is forwarded'},
    git_push: {skip: '/fetch is GET only: a git push is a POST'}, address: {skip: '/fetch is GET only: addresses are looked for in request bodies, not URLs'},
    a2a: {skip: '/fetch relays a page for the agent to read, not an agent-to-agent exchange'}, cross_request: crossRequestStage, contract: contractStage, budget: budgetStage, envelope: envelopeStage,
  },
  forward: FORWARD_ROW,
  // Each request inside an intercepted tunnel runs the forward exchange, and so its row: its own
  // inbound envelope is verified too (transports.md §2.9 step 2), beside the CONNECT's.
  intercept: FORWARD_ROW,
  connect: {
    kill_switch: killSwitchStage, identity: identityStage, envelope_verify: envelopeVerifyStage, url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: 'CONNECT is not a mutating method; an intercepted tunnel\'s inner requests run taint themselves'},
    header_dlp: headerDlpStage,
    redaction: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs redaction'},
    suppression: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs the suppression stage'},
    body: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs the body stage'},
    address: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs the address stage'},
    a2a: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs the A2A stage'},
    git_push: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner push request runs the git push stage'},
    cross_request: crossRequestStage, contract: contractStage, budget: budgetStage,
    envelope: {skip: 'an opaque tunnel carries no envelope: the CONNECT request is not forwarded and its bytes are TLS pipelock does not edit; with TLS interception each inner request carries one'},
  },
  reverse: {
    kill_switch: killSwitchStage, identity: identityStage, envelope_verify: envelopeVerifyStage, url_scan: {skip: REVERSE_URL}, url_dlp: urlDlpStage, session: sessionStage, taint: taintStage,
    header_dlp: headerDlpStage, redaction: redactionStage,
    suppression: suppressionStage,
    body: bodyStage, git_push: gitPushStage, address: addressStage, a2a: {skip: 'the reverse proxy fronts the operator\'s own service; A2A is scanned on agent egress (forward, intercept) and the MCP HTTP listener'}, cross_request: crossRequestStage, contract: contractStage, budget: budgetStage, envelope: envelopeStage,
  },
  websocket: {
    kill_switch: killSwitchStage, identity: identityStage, envelope_verify: envelopeVerifyStage, url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: 'the handshake is a GET; frames are scanned by the relay (websocket/relay.ts)'},
    header_dlp: forwardedHeaderDlpStage,
    redaction: {skip: 'the handshake has no body; outbound text messages carrying JSON are redacted by the relay (websocket/relay.ts)'},
    suppression: {skip: 'the handshake has no body; the frame relay suppresses its DLP findings in client messages against the ws(s) URL as given (websocket/handshake.ts)'},
    body: {skip: 'the handshake has no body; every message frame is scanned by the relay'},
    address: {skip: 'the handshake has no body; each outbound text message is checked with the same checker by the frame relay (websocket/relay.ts)'},
    a2a: {skip: 'A2A travels as HTTP JSON-RPC and SSE, not WebSocket frames'},
    git_push: {skip: 'the handshake is a GET: git pushes over smart HTTP are POSTs'},
    cross_request: {skip: 'the handshake carries no payload; each message is admitted by the relay (ceeWebSocketMessage)'},
    contract: contractStage, budget: budgetStage, envelope: envelopeStage,
  },
}

/**
 * The settle stages each transport runs after a stage's finding. Every HTTP transport runs both:
 * each has a stage whose block an exception may waive (the URL checks, header DLP) and that audit
 * mode downgrades; a row that skipped `mode` would let every finding through.
 */
const SETTLE_ROW: SettleRow = {exception: exceptionStage, mode: modeStage}

export const SETTLE_STAGES: Readonly<Record<keyof typeof TRANSPORT_STAGES, SettleRow>> = {
  fetch: SETTLE_ROW, forward: SETTLE_ROW, intercept: SETTLE_ROW, connect: SETTLE_ROW, reverse: SETTLE_ROW, websocket: SETTLE_ROW,
}

export function isSkip(s: Stage | SettleStage | Skip): s is Skip {
  return 'skip' in s
}

/** A row's stages in the one order, built once per transport. */
export function stagesFor(row: StageRow): readonly Stage[] {
  return STAGE_ORDER.map((id) => row[id]).filter((s): s is Stage => !isSkip(s))
}

/** A settle row's stages in `SETTLE_ORDER`, built once per transport. */
export function settleStagesFor(row: SettleRow): readonly SettleStage[] {
  return SETTLE_ORDER.map((id) => row[id]).filter((s): s is SettleStage => !isSkip(s))
}
