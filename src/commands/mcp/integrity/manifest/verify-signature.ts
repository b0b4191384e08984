import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../../cli/base-command.js'
import {printIntegrity} from '../../../../cli/integrity-output.js'
import {resolveKeystoreDir} from '../../../../plugins/signing/index.js'

export default class McpIntegrityManifestVerifySignature extends BaseCommand {
  static override summary = 'Verify the detached signature of an MCP integrity manifest'
  static override description = `The signature file (default <manifest>.sig) holds the base64 Ed25519 signature of the
manifest's bytes. The signer is --signer or $PIPELOCK_AGENT: its key is agents/<signer>/id_ed25519 in
the keystore; verification also accepts trusted_keys/<signer>.pub (pipelock trust). With
mcp_binary_integrity.require_signature, mcp proxy refuses to start unless this verifies.`

  static override examples = ['<%= config.bin %> mcp integrity manifest verify-signature --manifest /etc/pipelock/mcp-manifest.json --signer ops-alice --keystore /etc/pipelock/keys']

  static override flags = {
    manifest: Flags.string({description: 'manifest file', required: true}),
    sig: Flags.string({description: 'signature file (default <manifest>.sig)'}),
    signer: Flags.string({description: 'keystore agent name (default $PIPELOCK_AGENT)'}),
    keystore: Flags.string({description: 'keystore directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
    json: Flags.boolean({description: 'print the report object as JSON', default: false}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(McpIntegrityManifestVerifySignature)
    const {verifyIntegritySignature} = await import('../../../../plugins/mcp-proxy/index.js')
    const keystore = resolveKeystoreDir({keystore: flags.keystore, env: process.env, userHome: homedir()})
    printIntegrity(verifyIntegritySignature({manifest: flags.manifest, ...(flags.sig ? {sig: flags.sig} : {}), ...(flags.signer ? {signer: flags.signer} : {}), keystore, env: process.env}), flags.json, (s) => this.log(s))
  }
}
