/**
 * `explain_blocks: true` (operations.md §7.2): a hint per block, from the block's layer (scanner
 * label) — fixed text that names the setting involved and never any part of the request, so a hint
 * cannot echo a secret. The reference's table for URL-pipeline and redirect blocks (exact strings,
 * with the `dlp` row fixed: `suppress` cannot suppress URL DLP, §4.3), and [beyond] hints for the
 * other block layers. SSRF hints name the settings that allow an internal address; a contract
 * default deny a capture-only rule would allow names that rule (from the contract, not the request).
 */
import {shellWord} from '../errors/index.js'
import type {ReasonCode} from '../scanner/index.js'
import {blockHeaders, type BlockHeaderOptions} from './block.js'
import type {Decision} from './decision.js'

export const URL_HINTS: Readonly<Record<string, string>> = {
  blocklist: 'Domain is on the blocklist. Remove from fetch_proxy.monitoring.blocklist if legitimate.',
  dlp: "A DLP pattern matched this URL. If false positive, add this host to that pattern's exempt_domains.",
  entropy: 'High-entropy content detected. Review the URL for data exfiltration attempts.',
  subdomain_entropy: 'High-entropy content detected in subdomain. Review for data exfiltration via DNS.',
  ssrf: 'SSRF protection blocked this URL. It may resolve to a private IP or DNS resolution failed. To allow an internal address on purpose, add its IP/CIDR to ssrf.ip_allowlist (or its host to trusted_domains).',
  ssrf_metadata: 'SSRF protection blocked this URL. It resolves to a cloud-provider instance metadata endpoint (AWS / Azure / GCP IMDS).',
  ratelimit: 'Rate limit exceeded. Retry later or adjust fetch_proxy.monitoring.max_requests_per_minute.',
  length: 'URL exceeds maximum length. Check for data stuffing in query parameters.',
  databudget: 'Session data budget exceeded.',
  scheme: 'Only http and https schemes are allowed.',
  allowlist: 'Domain not on the allowlist. In strict mode, only allowlisted domains are reachable.',
  parser: 'The URL could not be parsed.',
  context: 'The request context was nil or cancelled before the scan completed.',
  crlf_injection: 'CRLF injection sequence detected in URL. This is never legitimate in normal traffic.',
  path_traversal: 'Path traversal sequence detected. Review the URL for directory escape attempts.',
  core_dlp: 'Core DLP pattern matched. This is a critical credential detection that cannot be disabled.',
  core_ssrf: 'Core SSRF protection blocked this URL. Private IP ranges are always blocked. To allow one internal IP on purpose, add it (as /32 or /128) to ssrf.ip_allowlist.',
}

/** [beyond] §7.2 MAY: the other block layers, at the same level of policy detail. */
export const OTHER_HINTS: Readonly<Record<string, string>> = {
  body_dlp: 'A DLP pattern matched the request body. If false positive, add a suppress entry (rule = the pattern name, path = this URL).',
  body_prompt_injection: 'The request body contains prompt-injection text. Request-body injection findings cannot be suppressed.',
  header_dlp: 'A DLP pattern matched a request header. Review request_body_scanning.sensitive_headers / ignore_headers.',
  // The WebSocket handshake's label for the same finding.
  dlp_header: 'A DLP pattern matched a request header. Review request_body_scanning.sensitive_headers / ignore_headers.',
  response_scan: 'The response contains prompt-injection text. If false positive, add a suppress entry (rule = the pattern name, path = this URL), or list the host in response_scanning.exempt_domains.',
  response_size: 'The response exceeds fetch_proxy.max_response_mb.',
  media_policy: 'The response media type is refused by media_policy.',
  kill_switch: 'The kill switch is active; every request is refused until an operator deactivates it.',
  budget: 'This agent session has used its budget (agents.<name>.budget). It resets after budget.window_minutes, if set.',
  contract: 'The live behavioural contract (learn_lock) does not allow this request. Learn, review and promote a new contract to allow it.',
  taint_policy: 'A mutating request from a session that read untrusted content was refused (taint policy).',
  tunnel_capacity: 'Too many CONNECT tunnels are open. Retry later.',
  session_deny: 'The session escalation level blocks this request. An operator can reset the session through the admin API.',
  airlock: 'This agent session is quarantined (airlock) and its tier refuses this request. An operator can see why and lower it: pipelock session explain KEY, pipelock session release KEY (pipelock session list gives the key); a tier with a timer also steps down on its own.',
  tunnel_plaintext: 'Only TLS may cross a CONNECT tunnel. Send plain http:// requests to the proxy as absolute-URI requests (HTTP_PROXY), or list the host in forward_proxy.raw_tunnel_hosts.',
  intercept_websocket: 'A WebSocket upgrade inside an intercepted tunnel needs websocket_proxy.enabled (set at start-up), or the host in tls_interception.passthrough_domains.',
  intercept_connect: 'A CONNECT inside an intercepted tunnel is refused: nothing would read what it carries. Send a CONNECT for the other host to the proxy itself.',
  tls_authority_mismatch: 'The Host (or :authority) of a request inside an intercepted tunnel must name the host and port of its CONNECT. Open a tunnel to the host the request is for.',
}

/**
 * The `/ws` handshake's own refusals whose layer's hint would send the operator the wrong way: a
 * target that is not ws/wss (layer `scheme`, whose URL hint names http/https), and the connection
 * cap (layer `ratelimit`, whose hint names max_requests_per_minute, which plays no part in it).
 */
export const WS_SCHEME_HINT = 'The /ws endpoint proxies only ws:// and wss:// targets. Pass the WebSocket URL in url=; plain http(s) pages go through /fetch or the forward proxy.'
export const WS_CAPACITY_HINT = 'Too many WebSocket connections are open through /ws (websocket_proxy.max_concurrent_connections). Retry after one closes, or raise that limit.'

/**
 * A request body refused because it could not be scanned (compressed, over `max_body_bytes`, not
 * parseable as its Content-Type): its layer is `body_dlp` (the reference's label), but no pattern
 * matched, so the layer's hint (add a suppress entry) would send the operator the wrong way.
 */
export const UNSCANNABLE_BODY_HINT =
  'The request body could not be scanned (compressed, over request_body_scanning.max_body_bytes, or not parseable as its Content-Type), so it was refused in every mode; no pattern matched and a suppress entry does not lift it. Send it uncompressed and well-formed, or raise max_body_bytes.'

/**
 * A core DLP pattern in the URL: the hint is chosen by the finding, not by the layer name a
 * transport reports (the reverse proxy names every DLP layer `dlp`), since no exempt_domains or
 * suppress entry lifts it there. In a body a suppress entry does lift it, and a header finding is
 * steered by the header lists: those keep their layer's hint.
 */
export const CORE_DLP_HINT = URL_HINTS.core_dlp!

/** `{hint}` naming the core floor when one of `findings` is a core pattern, else nothing. */
export function coreDlpHint(findings: readonly {readonly core: boolean; readonly warn?: boolean}[]): {hint?: string} {
  return findings.some((f) => f.core && f.warn !== true) ? {hint: CORE_DLP_HINT} : {}
}

/**
 * A contract default deny of a request a `capture_only` rule matches: the one contract block with
 * a concrete fix, which is to enforce that rule (docs/learn-and-lock.md: `learn ratify --decide
 * RULE_ID=e`; the contract enforces an HTTP rule, or nothing would be denied, so ratify keeps the
 * other rules' decisions) and promote the result. The rule id and contract hash come from the
 * contract, not the request; a rule id that is not one printable ASCII word (a hand-edited
 * contract) is not put in a header: the 403 detail names it.
 */
export function captureOnlyContractHint(ruleId: string, contractHash: string): string {
  const plain = /^[\x21-\x7e]+$/.test(ruleId)
  const rule = plain ? `capture-only rule ${shellWord(ruleId)}` : 'the capture-only rule the block detail names'
  // one shell word for the whole value: a quoted id with `=e` outside the quotes would still work, but reads worse
  const decide = plain ? shellWord(`${ruleId}=e`) : 'RULE_ID=e'
  const stored = /^sha256:[0-9a-f]{64}$/.test(contractHash) ? `history/sha256-${contractHash.slice('sha256:'.length)}.yaml` : 'history/'
  return (
    `${rule.charAt(0).toUpperCase()}${rule.slice(1)} matches this request but is not enforced, and under a live contract only enforce rules allow. ` +
    `To allow such requests, enforce it: pipelock learn ratify --candidate CONTRACT.yaml --decide ${decide} --out RATIFIED.yaml ` +
    `(CONTRACT.yaml: the contract you promoted; the store under learn_lock.store_dir keeps it as ${stored}; ${plain ? '' : "RULE_ID: that rule's id; "}its other rules keep their decisions), ` +
    'then pipelock learn promote --candidate RATIFIED.yaml with the --selector and store flags you promoted it with.'
  )
}

const REDIRECT_HINT = 'Request was redirected to a different origin. Cross-origin redirects are blocked to prevent open redirect attacks.'

/**
 * The hint for a block: a scanner-provided override (e.g. the SSRF `config_mismatch` text naming
 * `trusted_domains` / `ssrf.ip_allowlist`) first, then a redirect, then the layer tables.
 */
export function blockHint(d: Pick<Decision, 'layer' | 'detail' | 'hint'>): string | undefined {
  if (d.hint !== undefined && d.hint !== '') return d.hint
  if (d.detail.startsWith('redirect blocked:')) return REDIRECT_HINT
  return URL_HINTS[d.layer] ?? OTHER_HINTS[d.layer] ?? (d.layer.startsWith('session') ? OTHER_HINTS.session_deny : undefined)
}

/**
 * The `X-Pipelock-Hint` header (one line) when `explain_blocks` is on and a hint exists. A hint
 * that names a contract's rule carries text the operator wrote: anything outside printable ASCII
 * becomes `?`, since a header value cannot hold it (Node refuses the response otherwise).
 */
export function hintHeader(explain: boolean, d: Pick<Decision, 'layer' | 'detail' | 'hint'>): Record<string, string> {
  const h = explain ? blockHint(d) : undefined
  return h === undefined ? {} : {'X-Pipelock-Hint': h.replace(/[\r\n]/g, ' ').replace(/[^\x20-\x7e]/g, '?')}
}

/**
 * A block answer's headers on every transport: the `X-Pipelock-Block-Reason*` headers of `reason`
 * and `layer` (§10.1; `layer` undefined leaves the layer header out) and, with `explain_blocks`,
 * the hint of `cause` (the check that decided, which may differ from the layer the header shows).
 */
export function blockAnswerHeaders(
  explain: boolean, reason: ReasonCode, layer: string | undefined, cause: Pick<Decision, 'layer' | 'detail' | 'hint'>, opts: BlockHeaderOptions = {},
): Record<string, string> {
  return {...blockHeaders(reason, layer, opts), ...hintHeader(explain, cause)}
}
