import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'

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

--json prints one object per scanned line: {"line","id","clean","action","matches","tool_action","tools","error"}, and a run without findings ends with one {"summary":{…}} object (clean, messages, tool_definitions, scanners, unparsed_lines). Line numbers count every input line, blank ones included. A line over 10 MiB is reported and skipped; the lines after it are scanned.

Exit status: 0 when no line had an injection or poisoned tool (parse errors do not count), 1 otherwise ("prompt injection detected" on stderr) or when a line over 10 MiB could not be scanned.`

  static override examples = [
    {description: 'Scan a captured server transcript', command: '<%= config.bin %> mcp scan < server-output.jsonl'},
    // Short, and no space inside the quotes: a narrow terminal can only wrap it between shell words.
    {description: 'One JSON verdict per line', command: "echo '{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}' | <%= config.bin %> mcp scan --json"},
  ]

  static override flags = {
    config: Flags.string({char: 'c', description: 'config file (YAML); default: built-in defaults'}),
    json: Flags.boolean({description: 'one JSON verdict object per scanned line'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(McpScan)
    const {runMcpScan} = await import('../../plugins/mcp-proxy/index.js')
    await runMcpScan({
      configFile: flags.config,
      json: flags.json,
      processEnv: process.env,
      stdin: process.stdin,
      out: (line) => process.stdout.write(line + '\n'),
      stderr: (line) => process.stderr.write(line + '\n'),
    })
  }
}
