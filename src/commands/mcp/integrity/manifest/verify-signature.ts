import {homedir} from 'node:os'
import {BaseCommand} from '../../../../cli/base-command.js'
import {printIntegrity, SIGNATURE_DESCRIPTION, signatureFlags} from '../../../../cli/integrity-output.js'
import {resolveKeystoreDir} from '../../../../plugins/signing/index.js'

export default class McpIntegrityManifestVerifySignature extends BaseCommand {
  static override summary = 'Verify the detached signature of an MCP integrity manifest'
  static override description = SIGNATURE_DESCRIPTION

  static override examples = ['<%= config.bin %> mcp integrity manifest verify-signature --manifest /etc/pipelock/mcp-manifest.json --signer ops-alice --keystore /etc/pipelock/keys']

  static override ownJsonFlag = true

  static override flags = signatureFlags

  async run(): Promise<void> {
    const {flags} = await this.parse(McpIntegrityManifestVerifySignature)
    const {verifyIntegritySignature} = await import('../../../../plugins/mcp-proxy/index.js')
    const keystore = resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()})
    printIntegrity(verifyIntegritySignature({manifest: flags.manifest, ...(flags.sig ? {sig: flags.sig} : {}), ...(flags.signer ? {signer: flags.signer} : {}), keystore, env: process.env}), flags.json, (s) => this.log(s))
  }
}
