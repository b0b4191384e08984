import {statSync} from 'node:fs'
import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {writeOutputFile} from '../../cli/output-file.js'
import {osErrorReason, PipelockError} from '../../plugins/errors/index.js'
import type {ProjectAuditReport} from '../../plugins/preflight/index.js'

export default class Audit extends BaseCommand {
  static override summary = 'Scan a project directory and suggest a pipelock config; audit score, report and packet are subcommands (below)'
  static override description = `Subcommands: audit score (score a config's security posture), audit report (an HTML report of verified evidence, for people), audit packet build / verify (an audit packet of verified evidence, and its check). This help is that of audit DIR itself:

Walks DIR and reports the agent it is built for (Claude Code, Cursor, CrewAI, LangGraph, AutoGen), its languages, its package ecosystems (npm, pip, go, cargo, rubygems, maven), the MCP servers its .mcp.json names, guardrail-removal tooling, and secrets: in config-like files of the tree (.env*, YAML, JSON, TOML, INI, …) and in this process's environment. A secret is reported by location only — file and line, or variable name — and the pattern that matched, never by its value. Dependency and build directories (node_modules, venv, .git, dist, …) are skipped. Then suggests a config: the matching preset's monitoring limits and the ecosystems' package registries added to api_allowlist. The report goes to stderr; the config to stdout, or to --output (mode 0600, overwritten). --json prints the report as JSON on stdout instead. Exit status 0 whenever the scan ran, whatever it found.`

  static override examples = [
    {description: 'Scan a project and write the suggested config', command: '<%= config.bin %> audit ./my-agent -o pipelock.yaml'},
    {description: 'The findings as JSON (no config written)', command: '<%= config.bin %> audit ./my-agent --json'},
    {description: 'Leave test fixtures out of the findings', command: '<%= config.bin %> audit . --exclude "testdata/**" --exclude fixtures/'},
  ]

  static override enableJsonFlag = true

  static override args = {
    dir: Args.string({description: 'the project directory to scan', required: true}),
  }

  static override flags = {
    output: Flags.string({char: 'o', description: 'write the suggested config to this file (mode 0600, overwritten) instead of stdout'}),
    exclude: Flags.string({description: 'leave findings in matching files out: a glob on the relative path or base name, or a directory prefix (repeatable)', multiple: true}),
  }

  async run(): Promise<ProjectAuditReport> {
    const {args, flags} = await this.parse(Audit)
    if (this.jsonEnabled() && flags.output !== undefined) throw new PipelockError('USAGE', '-o/--output is not supported with --json (use shell redirection)')
    let isDir: boolean
    try {
      isDir = statSync(args.dir).isDirectory()
    } catch (err) {
      throw new PipelockError('FILE_NOT_FOUND', `cannot access ${args.dir}: ${osErrorReason(err)}`)
    }
    if (!isDir) throw new PipelockError('USAGE', `${args.dir} is not a directory`)
    const {auditProject, renderProjectAudit} = await import('../../plugins/preflight/index.js')
    const audit = auditProject(args.dir, {env: process.env, exclude: flags.exclude ?? []})
    if (this.jsonEnabled()) return audit.report
    process.stderr.write(renderProjectAudit(audit.report))
    if (flags.output !== undefined) {
      // A new 0600 file renamed over the old one: an existing file's wider mode is not kept.
      writeOutputFile(flags.output, audit.configYaml, 0o600)
      process.stderr.write(`\nConfig written to: ${flags.output}\nReview and rename to pipelock.yaml when ready.\n`)
    } else {
      process.stderr.write('\nSuggested config (use -o to write to file):\n---\n')
      process.stdout.write(audit.configYaml)
    }
    return audit.report
  }
}
