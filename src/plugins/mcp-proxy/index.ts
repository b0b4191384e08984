// Layer 3: MCP transports (spec mcp.md §2–§3): the stdio subprocess wrap, runtime resolution and
// auto-enable, the features `mcp proxy` implements, the record step, and the `mcp scan` service.
export {runMcpProxy, runMcpScan, checkProxyArgs, type McpProxyOptions, type McpScanOptions} from './service.js'
export {runStdioWrap, type StdioWrapOptions, type WrapResult} from './stdio-wrap.js'
export {buildMcpRuntime, bannerModes, type McpRuntime} from './runtime.js'
export {resolveMcpRuntime, type ResolvedMcpConfig} from './resolve.js'
export {assertMcpImplemented, MCP_IMPLEMENTED_FEATURES, NOT_USED_BY_MCP_PROXY} from './features.js'
export {buildChildEnv, SAFE_ENV, DANGEROUS_ENV, type ChildEnv} from './child-env.js'
export {readLines, LineTooLongError, MAX_LINE_BYTES} from './line-reader.js'
export {StderrRecorder, McpMetrics, RecorderFanout} from './recorder.js'
export {startMcpListener, type ListenerOptions, type RunningListener} from './http-listener.js'
export {runHttpBridge, type BridgeOptions} from './http-bridge.js'
export {parseHeaderEntry, parseHeaderFlags} from './headers.js'
export {readSseEvents, sseEvent} from './sse.js'
