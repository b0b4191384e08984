import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import type {DryRunReport} from '../plugins/sandbox/index.js'

export default class Sandbox extends BaseCommand {
  static override summary = 'Run a command (an agent) in kernel containment whose only way out is pipelock'
  // One line per paragraph or list item: oclif wraps each line to the terminal itself (a line
  // broken here as well left fragments) and drops leading indentation.
  static override description = `Linux only; needs bubblewrap (Debian package bubblewrap). Three layers (docs/sandbox.md):
- filesystem: a mount namespace holding the system directories read-only, the workspace read-write and sandbox.filesystem.allow_read / allow_write; ~/.ssh, ~/.aws, ~/.kube, ~/.gnupg, ~/.config/gcloud, browser profiles and the rest of HOME do not exist inside.
- network: a network namespace with loopback only; HTTP_PROXY/HTTPS_PROXY point at a relay on 127.0.0.1:8888 inside it, which reaches pipelock's forward proxy through a Unix socket: a process that clears the variables or opens a raw socket reaches nothing.
- syscall: a seccomp filter: no ptrace, mount, module loading, kexec, new user namespaces; io_uring is refused so runtimes fall back to epoll.

The proxy is embedded (the config's scanning, audit log on stderr, receipts with flight_recorder) unless --proxy names a running pipelock run with forward_proxy enabled. The agent never inherits pipelock's environment: it gets a synthetic HOME, a fixed PATH, the --env entries and the canary_tokens that name an env_var.

Modes: default needs the network namespace and reports any other missing layer; --strict refuses to start without all three; --best-effort runs with what is there and prints a WARNING … DEGRADED line naming what is missing and what an agent can still do. --dry-run probes and reports without launching (exit 0 all layers, 1 degraded, 2 not possible).

Exit status: the agent's (128+signal when it was killed; SIGINT, SIGTERM or SIGHUP sent to pipelock ends the sandbox with that signal: 130, 143, 129), 127 when the command is not found, 1 when the sandbox cannot start: also when a file pipelock's protection rests on is where the agent could reach it (a config, signing or CA key, recorder directory, sentinel, log, capture or contract store in the workspace or allow_write; a config or secret under allow_read): keep them under ~/.config/pipelock.`

  static override examples = [
    {description: 'Run an agent in the current directory (the workspace; the config stays outside it)', command: '<%= config.bin %> sandbox --config ~/.config/pipelock/pipelock.yaml -- python3 agent.py'},
    {description: 'Pass variables: one from this environment, one set here', command: '<%= config.bin %> sandbox --env OPENAI_API_KEY --env MODE=ci -- node agent.js'},
    {description: 'Which layers this machine provides, as JSON', command: '<%= config.bin %> sandbox --dry-run --json -- python3 agent.py'},
    {description: 'A container without user namespaces: run degraded, loudly', command: '<%= config.bin %> sandbox --best-effort --workspace /srv/agent -- ./run.sh'},
    {description: 'Serve the sandbox\'s counters (requests, file sentry findings) for Prometheus', command: '<%= config.bin %> sandbox --config ~/.config/pipelock/pipelock.yaml --metrics-listen 127.0.0.1:9464 -- python3 agent.py'},
    {description: 'Use a running pipelock run (forward_proxy enabled) instead of an embedded proxy', command: '<%= config.bin %> sandbox --proxy 127.0.0.1:8888 -- curl https://example.com/'},
  ]

  static override strict = false
  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    workspace: Flags.string({description: 'the agent\'s writable working directory (default: sandbox.workspace, then the current directory)'}),
    env: Flags.string({description: 'pass KEY (from this environment; a warning when it is unset there) or KEY=VALUE to the agent', multiple: true}),
    strict: Flags.boolean({description: 'refuse to start unless all three layers are active (or sandbox.strict)'}),
    'best-effort': Flags.boolean({description: 'run with the layers available, printing a DEGRADED warning (or sandbox.best_effort)'}),
    'dry-run': Flags.boolean({description: 'probe and report the layers without launching'}),
    proxy: Flags.string({description: 'host:port of a running pipelock run with forward_proxy enabled; one that serves its admin API on that port (api_token without kill_switch.api_listen) is refused (default: an embedded proxy)'}),
    'metrics-listen': Flags.string({description: 'serve Prometheus /metrics (the embedded proxy\'s registry, pipelock_file_sentry_findings_total) on host:port (port 0 picks a free port)'}),
  }

  async run(): Promise<DryRunReport | undefined> {
    // Everything after the first `--` is the agent's command, word for word: parsed with the
    // rest, its own `-c` (`sh -c '…'`) was read as --config's short flag and the words reordered.
    const raw = [...this.argv]
    const sep = raw.indexOf('--')
    const {flags, argv} = await this.parse(Sandbox, sep >= 0 ? raw.slice(0, sep) : raw)
    const {runSandbox, sandboxDryRun, renderDryRunText, dryRunFailure} = await import('../plugins/sandbox/index.js')
    const {PipelockError} = await import('../plugins/errors/index.js')
    if (sep >= 0 && argv.length > 0) throw new PipelockError('USAGE', `unexpected argument ${JSON.stringify(argv[0])} before --: the agent's command goes after --`)
    const command = sep >= 0 ? raw.slice(sep + 1) : (argv as string[])
    const opts = {
      ...(flags.config !== undefined ? {configFile: flags.config} : {}),
      ...(flags.workspace !== undefined ? {workspace: flags.workspace} : {}),
      ...(flags.proxy !== undefined ? {proxy: flags.proxy} : {}),
      ...(flags['metrics-listen'] !== undefined ? {metricsListen: flags['metrics-listen']} : {}),
      env: flags.env ?? [], strict: flags.strict, bestEffort: flags['best-effort'], dryRun: flags['dry-run'], json: this.jsonEnabled(),
      command, processEnv: process.env, cwd: process.cwd(), version: this.config.version,
      stdout: (l: string) => void process.stdout.write(l + '\n'), stderr: (l: string) => void process.stderr.write(l + '\n'),
    }
    if (command.length === 0) throw new PipelockError('USAGE', 'usage: pipelock sandbox -- COMMAND [ARGS...]')
    if (flags.strict && flags['best-effort']) throw new PipelockError('USAGE', '--strict and --best-effort are mutually exclusive')
    if (flags['dry-run']) {
      const report = sandboxDryRun(opts)
      const failure = dryRunFailure(report)
      if (this.jsonEnabled()) {
        process.exitCode = failure?.exitCode ?? 0
        return report
      }
      for (const l of renderDryRunText(report)) this.out(l)
      if (failure !== null) throw failure
      return report
    }
    if (this.jsonEnabled()) throw new PipelockError('USAGE', '--json needs --dry-run (a sandboxed run reports on stderr)')
    process.exitCode = await runSandbox(opts)
    return undefined
  }
}
