import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {captureDurationFlag, captureRawFlag, captureRunOptions} from '../cli/capture-flags.js'
import {PRESET_NAMES, type PresetName} from '../plugins/config/index.js'
import {PipelockError} from '../plugins/errors/index.js'

export default class Run extends BaseCommand {
  static override summary = 'Run the egress proxy in front of your agents'
  static override description =
    'Starts the Pipelock proxy: the /fetch endpoint, the HTTP forward proxy with CONNECT (forward_proxy.enabled),\n' +
    '/health, /stats, /metrics and the kill switch (--preset P runs a shipped preset, forward proxy on); with session_profiling (every shipped preset) also per-agent\n' +
    'sessions, adaptive enforcement, taint and the session admin API. Without --config the built-in defaults are used.\n' +
    'The banner (stderr) shows the bound address; the JSON audit log goes to stdout by default.\n' +
    'A feature that the config enables but this version does not implement makes it refuse to start.\n' +
    'With learn_lock.enabled the promoted contract of a contract store is enforced (live) or observed (shadow),\n' +
    'and the store is watched: a `learn promote` or `learn rollback` takes effect on the next request.\n' +
    'With --capture-output (or learn.enabled) every decision is captured, redacted, for `learn compile`.\n' +
    'Every effective policy change (reload, SIGHUP, a start with a different policy than the last run) writes a\n' +
    'config_change audit event with the diff; --change-note or <config>.change says who and why (docs/operations.md).\n' +
    'Signals: SIGINT/SIGTERM stop (5 s drain), SIGHUP reloads the config, SIGUSR1 toggles the kill switch.'

  static override examples = [
    '<%= config.bin %> run --preset balanced',
    '<%= config.bin %> run --config pipelock.yaml',
    '<%= config.bin %> run --config pipelock.yaml --listen 127.0.0.1:0',
    '<%= config.bin %> generate config --preset balanced > pipelock.yaml && <%= config.bin %> run --config pipelock.yaml',
    'HTTPS_PROXY=http://127.0.0.1:8888 curl https://example.com/',
    '<%= config.bin %> run --config pipelock.yaml --capture-output /var/lib/pipelock/capture --capture-duration 2h',
    '<%= config.bin %> run --config pipelock.yaml --change-note "allow api.example.com for the billing agent (TICKET-42)"',
  ]

  static override strict = false

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults (forward proxy off)', exclusive: ['preset']}),
    preset: Flags.string({description: 'run on a shipped preset instead of a file (every preset turns the forward proxy on, so agents can use HTTPS_PROXY)', options: [...PRESET_NAMES], exclusive: ['config']}),
    mode: Flags.string({char: 'm', description: 'override the config mode', options: ['strict', 'balanced', 'audit']}),
    listen: Flags.string({char: 'l', description: 'override fetch_proxy.listen (host:port; port 0 picks a free port)'}),
    'mcp-listen': Flags.string({description: 'MCP-over-HTTP listener (not supported in this version)'}),
    'mcp-upstream': Flags.string({description: 'MCP upstream URL (not supported in this version)'}),
    'reverse-proxy': Flags.boolean({description: 'enable the reverse proxy (not supported in this version)'}),
    'reverse-upstream': Flags.string({description: 'reverse-proxy upstream (not supported in this version)'}),
    'reverse-listen': Flags.string({description: 'reverse-proxy listen address (not supported in this version)'}),
    'capture-output': Flags.string({description: 'write a capture record of every decision to this directory (absolute) for `learn compile`'}),
    'capture-duration': captureDurationFlag,
    'capture-raw': captureRawFlag,
    'change-note': Flags.string({description: 'justification recorded with the config_change event when this start changes the policy of the last run (needs flight_recorder for the last-run state)'}),
    'capture-escrow-public-key': Flags.string({description: 'capture escrow key (not supported in this version)'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Run)
    for (const f of ['mcp-listen', 'mcp-upstream', 'reverse-proxy', 'reverse-upstream', 'reverse-listen', 'capture-escrow-public-key'] as const) {
      if (flags[f] !== undefined && flags[f] !== false) {
        throw new PipelockError('NOT_IMPLEMENTED', `--${f} is not supported by this version of pipelock run; refusing to start`)
      }
    }
    // Loaded here, not at module level: oclif may import every command file to find one, and
    // the proxy (scanner, undici, RE2 catalogue) should cost nothing to `pipelock keygen`.
    const {startRun} = await import('../plugins/proxy/index.js')
    const running = await startRun({
      configFile: flags.config,
      ...(flags.preset === undefined ? {} : {preset: flags.preset as PresetName}),
      mode: flags.mode,
      listen: flags.listen,
      agentArgs: argv as string[],
      version: this.config.version,
      env: process.env,
      stderr: (line) => process.stderr.write(line + '\n'),
      stdout: {write: (line) => void process.stdout.write(line)},
      stdoutIsTty: process.stdout.isTTY === true,
      ...captureRunOptions(flags['capture-output'], flags['capture-duration'], flags['capture-raw']),
      ...(flags['change-note'] !== undefined ? {changeNote: flags['change-note']} : {}),
    })
    process.exitCode = await running.done
  }
}
