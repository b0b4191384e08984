import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../../cli/base-command.js'
import {printIntegrity} from '../../../../cli/integrity-output.js'

export default class McpIntegrityManifestVerify extends BaseCommand {
  static override summary = 'Check an MCP server command against its integrity manifest'
  static override description = `Resolves COMMAND as mcp proxy would and compares the binary and script hashes with the manifest. Prints every mismatch and exits 1 when any (the same check mcp proxy runs before it spawns the server when mcp_binary_integrity is enabled).`

  // The server command after `--` is required (checked by the command: oclif's usage would leave it out).
  static override usage = '<%= command.id %> --manifest <value> [--workdir <value>] [--json] -- COMMAND [ARGS...]'

  static override examples = ['<%= config.bin %> mcp integrity manifest verify --manifest /etc/pipelock/mcp-manifest.json -- python3 /opt/mcp/server.py']

  static override strict = false

  static override ownJsonFlag = true

  static override flags = {
    manifest: Flags.string({description: 'manifest file', required: true}),
    workdir: Flags.string({description: 'directory relative script paths are resolved against'}),
    json: Flags.boolean({description: 'print the report object as JSON', default: false}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(McpIntegrityManifestVerify)
    const {verifyManifest} = await import('../../../../plugins/mcp-proxy/index.js')
    printIntegrity(verifyManifest({manifest: flags.manifest, ...(flags.workdir ? {workdir: flags.workdir} : {}), command: argv as string[]}), flags.json, (s) => this.log(s))
  }
}
