import {randomUUID} from 'node:crypto'
import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {prepareCaptureDir, resolveSalt} from '../../plugins/capture/index.js'
import {BaseCommand} from '../../cli/base-command.js'
import {captureDurationFlag, captureRawFlag, captureRunOptions} from '../../cli/capture-flags.js'
import {PipelockError} from '../../plugins/errors/index.js'
import {LOCATED_CONFIG_ORDER, locateConfigFile} from '../../plugins/config/index.js'

export default class LearnObserve extends BaseCommand {
  static override summary = 'Run the proxy and capture every decision for learn compile'
  static override description =
    'Starts the normal proxy (same config, listeners and scanning as `pipelock run`) and writes one capture record per decision — allowed, warned and blocked, on /fetch, the forward proxy, CONNECT, the reverse proxy and WebSocket handshakes — into <capture-dir>/<agent>|<client-ip>/ (directories 0700, files 0600). Captures are redacted: nothing a DLP pattern recognises is written, query strings and samples are HMAC-salted with learn.privacy.salt_source or left out. --capture-raw writes them as sent, secrets included. Stop with Ctrl-C (SIGINT) or SIGTERM: the queue is flushed and final checkpoints written. Then: pipelock learn compile --agent <name>.\n\n' +
    'Bind each agent you observe (agents.<name>.listeners or agents.<name>.source_cidrs): a request that claims a bound agent (X-Pipelock-Agent, ?agent=) from elsewhere is not captured, and a start-up warning names agents any client can still claim.'

  static override examples = [
    '<%= config.bin %> learn observe --config pipelock.yaml --capture-dir /var/lib/pipelock/capture',
    '<%= config.bin %> learn observe --config pipelock.yaml --capture-dir ./capture --capture-duration 30m',
    {
      description: 'Send an agent\'s HTTPS traffic through it; the agent name rides on the CONNECT request (curl -H would reach only the origin, inside the tunnel)',
      command: 'HTTPS_PROXY=http://127.0.0.1:8888 curl --proxy-header "X-Pipelock-Agent: my-agent" https://api.example.com/v1/users',
    },
  ]

  static override flags = {
    config: Flags.string({char: 'c', description: `config file (default: ${LOCATED_CONFIG_ORDER})`}),
    'capture-dir': Flags.string({description: 'capture directory (default: learn.capture_dir of the config); relative paths resolve against the working directory'}),
    'capture-duration': Flags.string({description: captureDurationFlag.description!.replace('stop capturing', 'stop capturing and exit')}),
    'capture-raw': captureRawFlag,
    listen: Flags.string({char: 'l', description: 'override fetch_proxy.listen (host:port; port 0 picks a free port)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(LearnObserve)
    const configFile = locateConfigFile(flags.config, process.env, homedir())?.file
    const {loadRunConfig, startRun} = await import('../../plugins/proxy/index.js')
    const config = configFile !== undefined ? loadRunConfig({configFile, env: process.env}).config : undefined
    const dir = flags['capture-dir'] ?? config?.learn.capture_dir ?? ''
    if (dir === '') {
      throw new PipelockError('USAGE', 'learn observe: no capture directory: pass --capture-dir or set learn.capture_dir', {hint: 'pipelock learn observe --capture-dir /var/lib/pipelock/capture'})
    }
    const capture = captureRunOptions(dir, flags['capture-duration'], flags['capture-raw'])
    // Checked before the start line and before the capture directory is made: an unusable salt
    // or directory must not look like an observation running. The salt is resolved as the
    // capture resolves it at start (and as pipelock check does): resolveSalt.
    if (flags['capture-raw'] !== true) resolveSalt(config?.learn.privacy.salt_source ?? '', process.env)
    if (capture.captureDir !== undefined) prepareCaptureDir(capture.captureDir)
    const running = await startRun({
      configFile,
      listen: flags.listen,
      agentArgs: [],
      version: this.config.version,
      env: process.env,
      stderr: (line) => process.stderr.write(line + '\n'),
      // The audit log goes to stderr: stdout carries only the session line.
      stdout: {write: (line) => void process.stderr.write(line)},
      ...capture,
      exitAfterCapture: true,
    })
    // Said once the proxy listens: a port in use must not look like an observation running. The
    // session id is cosmetic (learn-compile §18.1): capture session ids are per agent and client.
    process.stdout.write(`observation session started: session_id=${randomUUID()} capture_dir=${capture.captureDir}\n`)
    process.exitCode = await running.done
  }
}
