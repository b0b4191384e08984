import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'

export default class GitScanPush extends BaseCommand {
  static override summary = 'Check a git push (pre-push hook input) for secrets and branch rules'
  static override description = `Reads what git gives a pre-push hook on stdin: one line per ref, "<local ref> <local id> <remote ref> <remote id>". For each ref it scans every commit the push sends (git log -p of the range, so a key added in one commit and deleted in the next is still found; a merge's own lines, from its combined diff, and files git treats as binary, as text; a diff over 100 MiB refuses the push unscanned, GIT_SCAN_FAILED) with pipelock's DLP scanner — the built-in and configured dlp.patterns, canary tokens and environment secrets — and, when git_protection is enabled, refuses a destination branch outside git_protection.allowed_branches. Run it from inside the repository; the hook written by pipelock git install-hooks calls it. Exits 1 (GIT_PUSH_BLOCKED) when the push must not go.`

  static override examples = [
    {description: 'What the hook runs (git passes the remote name and URL)', command: 'git rev-parse HEAD | xargs -I{} echo refs/heads/main {} refs/heads/main 0000000000000000000000000000000000000000 | <%= config.bin %> git scan-push --config pipelock.yaml origin'},
    {description: 'The same check, as JSON', command: '<%= config.bin %> git scan-push --json origin < push-lines.txt'},
  ]

  static override enableJsonFlag = true

  static override args = {
    remote: Args.string({description: 'remote name (git passes it to the hook); commits already on its remote-tracking branches are not rescanned', ignoreStdin: true}),
    url: Args.string({description: 'remote URL (informational)', ignoreStdin: true}),
  }

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults (DLP scan only, no branch rules)'}),
  }

  async run(): Promise<unknown> {
    const {flags, args} = await this.parse(GitScanPush)
    const {loadConfig} = await import('../../plugins/config/index.js')
    const {scannerSettingsFromConfig} = await import('../../plugins/proxy/index.js')
    const {createScanner} = await import('../../plugins/scanner/index.js')
    const {parsePushLines, renderPushScan, scanPush} = await import('../../plugins/git/index.js')
    const {PipelockError} = await import('../../plugins/errors/index.js')
    const c = loadConfig(flags.config, {env: process.env}).config
    if (c.git_protection.enabled && !c.git_protection.pre_push_scan) this.err('pipelock: git_protection.pre_push_scan is false: commits are not scanned, only branches are checked')
    let input = ''
    process.stdin.setEncoding('utf8')
    for await (const chunk of process.stdin) input += chunk as string
    const refs = parsePushLines(input)
    const scanner = createScanner(scannerSettingsFromConfig(c, {env: process.env}))
    const s = scanPush(c, scanner, refs, {cwd: process.cwd(), ...(args.remote !== undefined ? {remote: args.remote} : {})})
    const json = {
      blocked: s.blocked,
      refs: s.refs.map((r) => ({local_ref: r.localRef, remote_ref: r.remoteRef, commits: r.commits, refused: r.refused, findings: r.findings.map((f) => ({commit: f.commit ?? '', file: f.file, line: f.line, pattern: f.pattern, severity: f.severity}))})),
    }
    if (this.jsonEnabled()) {
      if (s.blocked) process.exitCode = 1
      return json
    }
    const lines = renderPushScan(s)
    for (const l of lines.slice(0, -1)) this.err(l)
    if (s.blocked) throw new PipelockError('GIT_PUSH_BLOCKED', lines.at(-1)!)
    this.err(lines.at(-1)!)
    return json
  }
}
