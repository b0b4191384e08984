import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'
import {caPaths, readCaCert} from '../../plugins/tls/index.js'

export default class TlsShowCa extends BaseCommand {
  static override summary = 'Print the interception CA certificate (PEM) to stdout'
  static override description = `Writes the CA certificate file's bytes verbatim, for piping into a trust store or an agent's CA bundle. A file holding a private key, one that is not a CA certificate, or a CA whose validity dates cannot be read is refused (exit 1, nothing printed). No file there is TLS_CA_NOT_FOUND, with the tls init command that creates it. Default: <home>/ca.pem (--home, else $PIPELOCK_HOME, else ~/.pipelock).`

  static override examples = ['<%= config.bin %> tls show-ca > pipelock-ca.pem', '<%= config.bin %> tls show-ca --cert /etc/pipelock/ca.pem']

  static override flags = {
    cert: Flags.string({description: 'CA certificate file (default <home>/ca.pem)'}),
    home: Flags.string({description: 'pipelock home directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(TlsShowCa)
    const cert = flags.cert ?? caPaths(resolveKeystoreDir({home: flags.home, env: process.env, userHome: homedir()})).cert
    process.stdout.write(readCaCert(cert))
  }
}
