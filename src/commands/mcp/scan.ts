import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {errorLine, reportFromPipelockError} from '../../cli/error-output.js'

export default class McpScan extends BaseCommand {
  static override summary = 'Scan MCP server output (JSON-RPC lines on stdin) for prompt injection'
  // One line per paragraph or list item: oclif wraps each line to the terminal itself.
  static override description = `Reads newline-delimited JSON-RPC messages from stdin and runs the MCP response scan on each (tool-result text, error messages, notification params, structuredContent and embedded resources). The tool definitions of a tools/list also get the tool-poisoning scan of mcp proxy.

Text mode prints only the lines with findings:
line N: [INJECTION] <pattern names> (action: <action>)
line N: [TOOL POISONING] tool "<name>": <findings> (action: <action>)
line N: [ERROR] <parse error, or a line over the 10 MiB limit>

The actions are the ones mcp proxy takes with the same config. A run without findings ends with what it checked:
scanned <N> messages and <M> tool definitions with <scans>: no injection or poisoned tool found

--json prints one object per scanned line: {"line","id","clean","action","matches","tool_action","tools","error"}, and a run without findings ends with one {"summary":{…}} object (clean, messages, tool_definitions, scanners, unparsed_lines; clean is false when a line was not scanned). Line numbers count every input line, blank ones included. A line over 10 MiB is reported and skipped; the lines after it are scanned. A config that cannot be loaded is one error object on stdout under --json (docs/errors.md); the verdict failures below are a line on stderr in both modes.

Exit status: 0 when every line was scanned and none had an injection or poisoned tool; 1 when a line had one ("prompt injection detected [MCP_INJECTION_FOUND]" on stderr), when a line over 10 MiB could not be scanned (LINE_TOO_LONG), or when a line was not valid JSON-RPC and so was not scanned (after the summary: "input line N is not valid JSON-RPC and was not scanned [MCP_SCAN_INCOMPLETE]"; a corrupt transcript does not pass).`

  static override examples = [
    {description: 'Scan a captured server transcript', command: '<%= config.bin %> mcp scan < server-output.jsonl'},
    // Short, and no space inside the quotes: a narrow terminal can only wrap it between shell words.
    {description: 'One JSON verdict per line', command: "echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}' | <%= config.bin %> mcp scan --json"},
  ]

  // --json is a flag of its own (one object per line, not oclif's one result): failures before the
  // scan (the config) honour it too.
  static override ownJsonFlag = true

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    json: Flags.boolean({description: 'one JSON verdict object per scanned line'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(McpScan)
    const {runMcpScan} = await import('../../plugins/mcp-proxy/index.js')
    const failed = await runMcpScan({
      configFile: flags.config,
      json: flags.json,
      processEnv: process.env,
      stdin: process.stdin,
      out: (line) => process.stdout.write(line + '\n'),
      stderr: (line) => process.stderr.write(line + '\n'),
    })
    // The verdict, after the lines (and summary) on stdout: a line on stderr in either mode.
    if (failed !== undefined) {
      const r = reportFromPipelockError(failed)
      process.stderr.write(errorLine(r) + '\n')
      process.exitCode = r.exit
    }
  }
}
