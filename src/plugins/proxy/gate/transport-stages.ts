/**
 * Which stages each transport runs (docs/run.md prints this table as the stage matrix). Every
 * stage of the order appears in every row: a stage object, or the reason the transport skips it.
 * `runGate` follows the order; a row only chooses, it never reorders.
 */
import type {Transport} from '../decision.js'
import type {Stage, StageId} from './context.js'
import {STAGE_ORDER} from './order.js'
import {bodyStage} from './stages/body.js'
import {budgetStage} from './stages/budget.js'
import {contractStage} from './stages/contract.js'
import {crossRequestStage} from './stages/cross-request.js'
import {forwardedHeaderDlpStage} from './stages/forwarded-header-dlp.js'
import {gitPushStage} from './stages/git-push.js'
import {headerDlpStage} from './stages/header-dlp.js'
import {sessionStage} from './stages/session.js'
import {taintStage} from './stages/taint.js'
import {urlDlpStage} from './stages/url-dlp.js'
import {urlScanStage} from './stages/url-scan.js'

/** Why a transport does not run a stage. */
export interface Skip {
  readonly skip: string
}

export type StageRow = Readonly<Record<StageId, Stage | Skip>>

const REVERSE_URL = 'the reverse proxy runs url_dlp instead: its upstream is the operator\'s own, so SSRF, blocklist and rate limits do not apply'
const FULL_URL_SCAN = 'the full URL scan (url_scan) already ran DLP on the URL'

/** An absolute-URI request: every stage of the order but the reverse proxy's URL check. */
const FORWARD_ROW: StageRow = {
  url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage, taint: taintStage,
  header_dlp: headerDlpStage, body: bodyStage, git_push: gitPushStage, cross_request: crossRequestStage, contract: contractStage, budget: budgetStage,
}

export const TRANSPORT_STAGES: Readonly<Record<Exclude<Transport, 'intercept'> | 'intercept', StageRow>> = {
  fetch: {
    url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: '/fetch is GET only: taint authority applies to mutating methods'},
    header_dlp: headerDlpStage, body: {skip: '/fetch is GET only: no request body is forwarded'},
    git_push: {skip: '/fetch is GET only: a git push is a POST'},
    cross_request: crossRequestStage, contract: contractStage, budget: budgetStage,
  },
  forward: FORWARD_ROW,
  // Each request inside an intercepted tunnel runs the forward exchange, and so its row.
  intercept: FORWARD_ROW,
  connect: {
    url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: 'CONNECT is not a mutating method; an intercepted tunnel\'s inner requests run taint themselves'},
    header_dlp: headerDlpStage,
    body: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner request runs the body stage'},
    git_push: {skip: 'a tunnel carries opaque bytes: with TLS interception each inner push request runs the git push stage'},
    cross_request: crossRequestStage, contract: contractStage, budget: budgetStage,
  },
  reverse: {
    url_scan: {skip: REVERSE_URL}, url_dlp: urlDlpStage, session: sessionStage, taint: taintStage,
    header_dlp: headerDlpStage, body: bodyStage, git_push: gitPushStage, cross_request: crossRequestStage, contract: contractStage, budget: budgetStage,
  },
  websocket: {
    url_scan: urlScanStage, url_dlp: {skip: FULL_URL_SCAN}, session: sessionStage,
    taint: {skip: 'the handshake is a GET; frames are scanned by the relay (websocket/relay.ts)'},
    header_dlp: forwardedHeaderDlpStage,
    body: {skip: 'the handshake has no body; every message frame is scanned by the relay'},
    git_push: {skip: 'the handshake is a GET: git pushes over smart HTTP are POSTs'},
    cross_request: {skip: 'the handshake carries no payload; each message is admitted by the relay (ceeWebSocketMessage)'},
    contract: contractStage, budget: budgetStage,
  },
}

export function isSkip(s: Stage | Skip): s is Skip {
  return 'skip' in s
}

/** A row's stages in the one order, built once per transport. */
export function stagesFor(row: StageRow): readonly Stage[] {
  return STAGE_ORDER.map((id) => row[id]).filter((s): s is Stage => !isSkip(s))
}
