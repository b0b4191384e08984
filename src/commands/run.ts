import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {captureDurationFlag, captureRawFlag} from '../cli/capture-flags.js'
import {PRESET_NAMES} from '../plugins/config/index.js'
import {runProxy} from '../cli/run-proxy.js'

export default class Run extends BaseCommand {
  static override summary = 'Run the egress proxy in front of your agents'
  static override description =
    'Starts the Pipelock proxy: the /fetch endpoint, the HTTP forward proxy with CONNECT (forward_proxy.enabled), /health, /stats, /metrics and the kill switch (--preset P runs a shipped preset, forward proxy on); with session_profiling (every shipped preset) also per-agent sessions, adaptive enforcement, taint and the session admin API. Without --config the built-in defaults are used.\n\n' +
    'The banner (stderr) shows the bound address; the JSON audit log goes to stdout by default.\n\n' +
    'A feature that the config enables but this version does not implement makes it refuse to start.\n\n' +
    'With learn_lock.enabled the promoted contract of a contract store is enforced (live) or observed (shadow), and the store is watched: a `learn promote` or `learn rollback` takes effect on the next request.\n\n' +
    'With --capture-output (or learn.enabled) every decision is captured, redacted, for `learn compile`; with --capture-escrow-public-key the bytes a dlp or response decision scanned are sealed to that X25519 key in NNNNNN.payload.enc sidecars, so `learn shadow --escrow-private-key` can rescan them (docs/learn-and-lock.md).\n\n' +
    'Every effective policy change (reload, SIGHUP, a start with a different policy than the last run) writes a config_change audit event with the diff; --change-note or <config>.change says who and why (docs/operations.md).\n\n' +
    'With websocket_proxy.enabled, /ws?url=ws[s]://… relays WebSockets with per-message DLP and injection scanning.\n\n' +
    'With --reverse-proxy --reverse-upstream URL (or reverse_proxy in the config) a second listener (--reverse-listen, default :8890, all interfaces) sends every request to that one upstream, scanning requests and responses.\n\n' +
    'With --mcp-listen ADDR --mcp-upstream URL the MCP Streamable HTTP listener of `mcp proxy --listen` runs inside the proxy: every JSON-RPC message is scanned with the run\'s config (hot reload), kill switch, receipt chain, capture, live contract, audit log and /metrics (docs/mcp.md, "The MCP listener inside pipelock run").\n\n' +
    'With -- COMMAND [ARGS...] the agent is started once the proxy listens, with HTTPS_PROXY/HTTP_PROXY (forward proxy on) and PIPELOCK_FETCH_URL pointing at it; its stdout is its own (the audit log goes to stderr), the run ends when it exits, with its exit status. It is not contained: `pipelock sandbox -- COMMAND` leaves it no other way out.\n\n' +
    'Signals: SIGINT/SIGTERM stop (5 s drain), SIGHUP reloads the config, SIGUSR1 toggles the kill switch.'

  static override examples = [
    '<%= config.bin %> run --preset balanced',
    '<%= config.bin %> run --config pipelock.yaml',
    '<%= config.bin %> run --config pipelock.yaml --listen 127.0.0.1:0',
    '<%= config.bin %> generate config --preset balanced > pipelock.yaml && <%= config.bin %> run --config pipelock.yaml',
    'HTTPS_PROXY=http://127.0.0.1:8888 curl https://example.com/',
    '<%= config.bin %> run --preset balanced -- curl -s https://example.com/   # curl runs through the proxy; the run ends with it',
    '<%= config.bin %> run --config pipelock.yaml --capture-output /var/lib/pipelock/capture --capture-duration 2h',
    '<%= config.bin %> escrow keygen --out-private escrow.key   # prints "public: <64 hex>"',
    '<%= config.bin %> run --config pipelock.yaml --capture-output /var/lib/pipelock/capture --capture-escrow-public-key <64 hex from escrow keygen>',
    '<%= config.bin %> run --config pipelock.yaml --change-note "allow api.example.com for the billing agent (TICKET-42)"',
    '<%= config.bin %> run --config pipelock.yaml --reverse-proxy --reverse-upstream http://127.0.0.1:3000 --reverse-listen 127.0.0.1:8890',
    'curl http://127.0.0.1:8890/api/items   # through the reverse proxy to http://127.0.0.1:3000/api/items',
    'wscat -c "ws://127.0.0.1:8888/ws?url=wss://echo.example.com/"   # with websocket_proxy.enabled: true',
    '<%= config.bin %> run --config pipelock.yaml --mcp-listen 127.0.0.1:8889 --mcp-upstream http://127.0.0.1:3001/mcp',
    'claude mcp add --transport http tools http://127.0.0.1:8889/mcp   # the agent talks MCP to pipelock',
  ]

  static override strict = false

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults (forward proxy off)', exclusive: ['preset']}),
    preset: Flags.string({description: 'run on a shipped preset instead of a file (every preset turns the forward proxy on, so agents can use HTTPS_PROXY)', options: [...PRESET_NAMES], exclusive: ['config']}),
    mode: Flags.string({char: 'm', description: 'override the config mode', options: ['strict', 'balanced', 'audit']}),
    listen: Flags.string({char: 'l', description: 'override fetch_proxy.listen (host:port; port 0 picks a free port)'}),
    'mcp-listen': Flags.string({description: 'host the MCP Streamable HTTP listener on this address (host:port; port 0 picks a free port); needs --mcp-upstream'}),
    'mcp-upstream': Flags.string({description: 'the MCP listener\'s one upstream server (http:// or https:// with a host); needs --mcp-listen'}),
    'reverse-proxy': Flags.boolean({description: 'enable the reverse proxy (needs --reverse-upstream; overrides reverse_proxy in the config)'}),
    'reverse-upstream': Flags.string({description: 'the reverse proxy\'s one upstream (http:// or https:// with a host)'}),
    'reverse-listen': Flags.string({description: 'reverse-proxy listen address (host:port) [default: :8890, all interfaces]; ignored without --reverse-proxy'}),
    'capture-output': Flags.string({description: 'write a capture record of every decision to this directory (absolute) for `learn compile`'}),
    'capture-duration': captureDurationFlag,
    'capture-raw': captureRawFlag,
    'change-note': Flags.string({description: 'justification recorded with the config_change event when this start changes the policy of the last run (needs flight_recorder for the last-run state)'}),
    'capture-escrow-public-key': Flags.string({description: 'X25519 public key (64 hex, or a file holding it): seal the payload of every dlp and response capture record into a NNNNNN.payload.enc sidecar for learn shadow --escrow-private-key; needs a capture directory'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Run)
    // The same body runs without oclif when bin/run.js can parse the flags itself (src/cli/run-direct.ts).
    await runProxy(flags, argv as string[], this.config.version)
  }
}
