/**
 * Process containment (spec containment.md §2): `pipelock sandbox` and `mcp proxy --sandbox`.
 * Bubblewrap provides the namespaces and mounts, a generated seccomp program the syscall filter,
 * a loopback relay plus a Unix socket the only way out (docs/sandbox.md).
 */
export {runSandbox, sandboxDryRun, startMcpSandbox, sandboxMode, renderDryRunText, dryRunFailure, type SandboxOptions, type McpSandbox, type McpSandboxRequest} from './service.js'
export {type DryRunReport, type DryRunLayer} from './dry-run.js'
export {probeCapabilities, LAYER_BYPASS, LAYER_NAMES, DISABLE_ENV, type Capabilities, type LayerProbe, type LayerName} from './probe.js'
export {buildFilter, encodeFilter, ALLOWED_SYSCALLS, KILLED_SYSCALLS, IO_URING_SYSCALLS, DENIED_BY_OMISSION} from './seccomp.js'
export {buildPolicy, validateWorkspace, PROTECTED_HOME_DIRS} from './policy.js'
export {type SandboxMode, type PreparedLaunch} from './launch.js'
