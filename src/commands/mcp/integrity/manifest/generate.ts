import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../../cli/base-command.js'
import {printIntegrity} from '../../../../cli/integrity-output.js'

export default class McpIntegrityManifestGenerate extends BaseCommand {
  static override summary = 'Pin the SHA-256 of an MCP server binary (and its script) in an integrity manifest'
  static override description = `Resolves COMMAND the way mcp proxy will run it (PATH lookup, symlinks, env and shebang interpreters, the script of python/node/… interpreters) and writes its binary and script hashes to the manifest (JSON, keys sorted, 0600, atomic). Without --merge an existing manifest is refused; with --merge entries are added or overwritten, never pruned. Package runners (npx, uvx) pin only the runner, not the package it fetches. Enforced by mcp_binary_integrity in the config.`

  // --output is required, but checked by the command (spec mcp.md §12.4: `--output is required`),
  // so oclif would show it as optional.
  static override usage = '<%= command.id %> -o <value> [--merge] [--workdir <value>] [--json] -- COMMAND [ARGS...]'

  static override examples = [
    '<%= config.bin %> mcp integrity manifest generate --output /etc/pipelock/mcp-manifest.json -- python3 /opt/mcp/server.py',
    '<%= config.bin %> mcp integrity manifest generate --output /etc/pipelock/mcp-manifest.json --merge -- node /opt/mcp/other.js',
  ]

  static override strict = false

  static override ownJsonFlag = true

  static override flags = {
    output: Flags.string({char: 'o', description: 'manifest file to write (required)'}),
    merge: Flags.boolean({description: 'add to an existing manifest instead of refusing it', default: false}),
    workdir: Flags.string({description: 'directory relative script paths are resolved against'}),
    json: Flags.boolean({description: 'print the report object as JSON', default: false}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(McpIntegrityManifestGenerate)
    const {generateManifest} = await import('../../../../plugins/mcp-proxy/index.js')
    printIntegrity(generateManifest({output: flags.output ?? '', merge: flags.merge, ...(flags.workdir ? {workdir: flags.workdir} : {}), command: argv as string[]}), flags.json, (s) => this.log(s))
  }
}
