import {Flags} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {loadPreflightConfig, reportLoadFailure} from '../cli/preflight-config.js'
import {isPipelockError} from '../plugins/errors/index.js'
import type {CheckReport, UrlCheckReport} from '../plugins/preflight/index.js'

type CheckResult = CheckReport & {url?: UrlCheckReport}

export default class Check extends BaseCommand {
  static override summary = 'Validate a config before deploying it: what it turns on, what this build refuses'
  static override description = `Loads and validates the config exactly as \`pipelock run\` would, then prints a summary on stdout: mode, listen address, list sizes, the feature sections it turns on, and those this build refuses (run would not start). When the config turns the flight recorder on and a proxy ran with this file, a Running: line says whether the running policy is this file's (a reload may have refused it, e.g. a loosening in strict mode without an operator note, or kept the running value of restart-only fields it changes, such as fetch_proxy.listen), or, when no proxy holds that recorder now, that none is running and what the last run used. With --url, also scans one URL through the full URL pipeline of that config (real DNS for the SSRF stage) and prints the verdict. Diagnostics go to stderr. Exit status: 0 when the config is valid, runnable and the URL (if any) is allowed; 1 when the config is invalid, refused, or the URL is blocked. A config that cannot be loaded prints "Config validation FAILED: <file>:<line>: <what> [CODE]" on stderr, or with --json the error object of docs/errors.md on stdout.`

  static override examples = [
    {description: 'Validate a config file', command: '<%= config.bin %> check --config pipelock.yaml'},
    {description: 'Would this config let the agent reach a URL?', command: '<%= config.bin %> check --config pipelock.yaml --url https://pastebin.com/raw/x'},
    {description: 'Machine-readable report', command: '<%= config.bin %> check --config pipelock.yaml --json'},
  ]

  static override enableJsonFlag = true

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    url: Flags.string({description: 'also scan this URL with the config (full URL pipeline, real DNS)'}),
  }

  async run(): Promise<CheckResult | undefined> {
    const {flags} = await this.parse(Check)
    if (flags.config === undefined) this.err('Using default config (no --config specified)')
    const l = loadPreflightConfig(flags.config)
    if ('failure' in l) {
      reportLoadFailure(l.failure, 'Config validation FAILED: ', 1, this.jsonEnabled())
      return undefined
    }
    const {checkConfig, renderCheck, renderUrlCheck, runningPolicy, renderRunningPolicy} = await import('../plugins/preflight/index.js')
    const running = runningPolicy(l.loaded)
    let checked: CheckReport
    try {
      checked = checkConfig(l.loaded)
    } catch (err) {
      // A value run refuses as an invalid config (checked when run builds its scanners): reported
      // as run reports it, after the same prefix as a config that did not load.
      if (!isPipelockError(err)) throw err
      reportLoadFailure(err, 'Config validation FAILED: ', 1, this.jsonEnabled())
      return undefined
    }
    const report = {...checked, ...(running !== undefined ? {running_policy: running} : {})}
    for (const w of report.warnings) this.err(`WARNING: ${w}`)
    if (!this.jsonEnabled()) process.stdout.write(renderCheck(report) + (running !== undefined ? renderRunningPolicy(running) : ''))
    if (running?.running === true && running.refused !== undefined) this.err(`WARNING: the running proxy refused this file; its policy differs from the file (${running.refused})`)
    if (report.refusal !== undefined) {
      this.err(report.refusal)
      process.exitCode = 1
    }
    if (flags.url === undefined) return report
    const {checkUrl} = await import('../plugins/proxy/index.js')
    const r = await checkUrl(l.loaded.config, process.env, flags.url)
    const url: UrlCheckReport = r.allowed ? {url: flags.url, allowed: true} : {url: flags.url, allowed: false, scanner: r.scanner, reason: r.detail}
    if (!this.jsonEnabled()) process.stdout.write(renderUrlCheck(url))
    if (!r.allowed) {
      this.err('url blocked')
      process.exitCode = 1
    }
    return {...report, url}
  }
}
