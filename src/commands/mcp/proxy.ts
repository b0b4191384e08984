import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'

export default class McpProxy extends BaseCommand {
  static override summary = 'Firewall an MCP server (stdio child, HTTP upstream or HTTP listener): scan every request, response and tool definition'
  // One line per paragraph or list item: oclif wraps each line to the terminal itself (a line
  // broken here as well left fragments) and drops leading indentation.
  static override description = `Runs an MCP server as a child process and sits on its stdio: every client→server message goes through input scanning (DLP, split secrets, injection), tool-call policy, session binding and chain detection; every server→client message through the kill switch, confused-deputy tracking, media policy, tool-definition scanning (poisoning, rug-pull drift) and injection scanning. Blocked requests get a JSON-RPC error; the server never sees them. Log lines go to stderr.

Without --config the built-in defaults are used, and input scanning (block), tool scanning (block, drift on) and tool policy (warn, 17 built-in rules) are auto-enabled when the config leaves them unconfigured. Injection in what the server sends (results, structuredContent, sampling requests) is blocked unless response_scanning.mcp_action says warn. The kill switch is kill_switch.enabled or kill_switch.sentinel_file (no API, no SIGUSR1 in this command).

Sessions (docs/mcp.md, "Sessions, adaptive enforcement and budgets"): with session_profiling and adaptive_enforcement (every preset) each wrap is an invocation session (mcp-stdio-1, mcp-http-N, mcp-ws-N; the listener: the client IP) that blocks and warnings escalate; at critical every call gets -32001 "session escalation level critical". The agent's budget (agents.<agent>.budget) sets denial-of-wallet budgets (-32600), cross_request_detection answers -32005. With kill_switch.api_listen and a token the session admin API is served there (pipelock session list|inspect; reset/terminate/task/trust are refused on invocation sessions).

Transports:
- -- COMMAND ARGS: run the server as a child on stdio (its own process group, filtered environment, stderr passed through).
- --upstream http(s)://…: stdio client → Streamable HTTP server (JSON and SSE answers, Mcp-Session-Id, GET stream, DELETE at the end; --header/--header-file).
- --upstream ws(s)://…: stdio client → WebSocket JSON-RPC server (one text frame per message).
- --listen ADDR --upstream URL: Streamable HTTP endpoint for remote clients (POST only; /health). It has no authentication: keep it on loopback.

Evidence and contracts (docs/mcp.md, "Receipts, capture and live contracts"):
- flight_recorder with signing_key_path: a signed receipt per tools/call decision, in the same receipt chain format as pipelock run.
- learn_lock: the promoted contract gates every tools/call after the scanners: -32006 with the contract data; shadow never blocks; a promote applies to the next call without a restart.
- --capture-output DIR: one capture record per tools/call, argument values HMAC'd (learn.privacy.salt_source) or replaced by their type.

Large messages (docs/mcp.md, "Large messages: scanned off the event loop"): messages over 64 KiB are scanned on worker threads (started on the first one), so one multi-MiB call or result does not stall the other sessions; each session's order is kept, and a scan that cannot complete blocks the message (block_reason pattern_unavailable), never forwards it.

Exit status: 0 when the client closed stdin and the server exited 0 (or the bridge finished); 10 when the server exited non-zero or was killed; 1 for startup errors, broken streams and an --upstream that could not be reached or refused a message at the HTTP level, at start or mid-session (a WebSocket upstream lost without a close frame too); 2 for a usage error (an unknown flag, a bad --listen, no command or --upstream).`

  static override examples = [
    {description: 'Wrap the filesystem server (use this as the "command" of an MCP client config)', command: '<%= config.bin %> mcp proxy -- npx -y @modelcontextprotocol/server-filesystem /srv/data'},
    {description: 'With a config file and an extra variable for the server', command: '<%= config.bin %> mcp proxy --config pipelock.yaml --env GITHUB_TOKEN -- node server.js'},
    {description: 'Bridge a stdio client to a remote Streamable HTTP server with an API key header', command: "<%= config.bin %> mcp proxy --upstream https://mcp.example.com/mcp --header 'X-Api-Key:k'"},
    {description: 'Serve remote clients on 127.0.0.1:8889 in front of an HTTP server', command: '<%= config.bin %> mcp proxy --listen 127.0.0.1:8889 --upstream http://127.0.0.1:3000/mcp'},
    {description: 'Observe tool calls for learn-and-lock (then: learn compile --include-mcp)', command: '<%= config.bin %> mcp proxy --capture-output /var/lib/pipelock/capture -- node server.js'},
    {description: 'Run the server sandboxed: only the workspace is visible, its HTTP(S) calls go through pipelock', command: '<%= config.bin %> mcp proxy --sandbox --config ~/.config/pipelock/pipelock.yaml -- node server.js'},
    {description: 'Watch the server\'s file writes (file_sentry in the config) and serve its counters for Prometheus', command: '<%= config.bin %> mcp proxy --config pipelock.yaml --metrics-listen 127.0.0.1:9464 -- node server.js'},
    {description: 'Enforce a promoted contract (learn_lock in the config) and sign a receipt per tool call (flight_recorder)', command: '<%= config.bin %> mcp proxy --config pipelock.yaml -- node server.js'},
    {description: "Run as agent billing: its profile (agents.billing), budget, capture name and promoted contract (learn promote --selector billing)", command: '<%= config.bin %> mcp proxy --config pipelock.yaml --agent billing -- node server.js'},
    {description: 'A preset with sessions and adaptive enforcement; inspect the session with pipelock session list (kill_switch.api_listen set)', command: '<%= config.bin %> generate config --preset balanced > pipelock.yaml && <%= config.bin %> mcp proxy --config pipelock.yaml -- node server.js'},
  ]

  static override strict = false

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    upstream: Flags.string({description: 'remote MCP server URL: http/https (Streamable HTTP bridge) or ws/wss (WebSocket bridge)'}),
    listen: Flags.string({description: 'serve an MCP HTTP endpoint on host:port (needs --upstream; port 0 picks a free port); it has no authentication: a non-loopback address is warned about'}),
    header: Flags.string({description: "extra upstream header 'Key: Value' (bridge mode only)", multiple: true}),
    'header-file': Flags.string({description: "file of 'Key: Value' upstream headers (bridge mode only)"}),
    env: Flags.string({description: 'pass KEY (from this environment; a warning when it is unset there) or KEY=VALUE to the child', multiple: true}),
    agent: Flags.string({description: 'agent name: selects agents.<NAME> (merged over the config), its budget, capture and receipt agent, and its live contract (default _default)'}),
    sandbox: Flags.boolean({description: 'run the server in Linux containment (bubblewrap; docs/sandbox.md); its HTTP(S) egress is scanned by an embedded forward proxy'}),
    'sandbox-strict': Flags.boolean({description: '--sandbox, refusing to start without all three layers'}),
    'sandbox-best-effort': Flags.boolean({description: '--sandbox, running degraded (with a WARNING) when layers are missing'}),
    workspace: Flags.string({description: 'the sandboxed server\'s writable working directory (implies --sandbox; default: sandbox.workspace, then the current directory)'}),
    'capture-output': Flags.string({description: 'capture every tools/call (clean ones too) for learn compile --include-mcp into this absolute directory'}),
    'capture-raw': Flags.boolean({description: 'write tool argument values as sent in capture records (DLP hits are still redacted)'}),
    'contract-server': Flags.string({description: 'server identity for learn_lock contracts and capture (default: command basename or upstream hostname)'}),
    'metrics-listen': Flags.string({description: 'serve Prometheus /metrics (MCP counters, pipelock_file_sentry_findings_total) on host:port (port 0 picks a free port)'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(McpProxy)
    // The common invocation starts without oclif (bin/run.js, src/cli/mcp-proxy-args.ts); both run this.
    const {runMcpProxyCommand} = await import('../../cli/mcp-proxy-run.js')
    process.exitCode = await runMcpProxyCommand(flags, argv as string[], this.config.version)
  }
}
