// Layer 3: live contract enforcement (learn-lifecycle §7) — the runtime that keeps a contract
// store's active set, the store watch, and the contract step of the HTTP decision order.
export {buildActiveSet, ContractRuntime, effectiveMode, RELOAD_OUTCOMES} from './contract-runtime.js'
export type {ActiveSet, LearnLockSettings, ReloadOutcome, RuntimeStatus} from './contract-runtime.js'
export {STORE_BURST_CAP_MS, STORE_DEBOUNCE_MS, watchStore} from './store-watch.js'
export type {StoreWatch, StoreWatchOptions} from './store-watch.js'
export {gateHttp} from './http-gate.js'
export type {ContractContext, HttpGateResult} from './http-gate.js'
export {gateMcpToolCall, gateMcpUpstream, MCP_CONTRACT_CODE} from './mcp-gate.js'
export type {McpGateError, McpGateResult} from './mcp-gate.js'
export {unlistedAgentDenial} from './unlisted-agent.js'
