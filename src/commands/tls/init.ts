import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../cli/base-command.js'
import {resolveKeystoreDir} from '../../plugins/signing/index.js'
import {initCa, type TlsInitResult} from '../../plugins/tls/index.js'

export default class TlsInit extends BaseCommand {
  static override summary = 'Generate the CA that signs leaf certificates for TLS interception'
  static override description = `Writes <out>/ca.pem (certificate) and <out>/ca-key.pem (SEC1 EC private key), both 0600, creating missing directories 0750. The CA is ECDSA P-256, O=<org>, CN=Pipelock CA, valid from one hour ago for --validity (a Go duration, at most 2562047h as in Go; longer exits 2: invalid duration). Default directory: --home, else $PIPELOCK_HOME, else ~/.pipelock — the same place 'pipelock run' looks when tls_interception.ca_cert/ca_key are empty.`

  static override examples = [
    '<%= config.bin %> tls init',
    '<%= config.bin %> tls init --out /tmp/pipelock-ca --validity 720h --org "Acme Agents"',
  ]

  static override enableJsonFlag = true

  static override flags = {
    org: Flags.string({description: 'organisation name in the CA subject', default: 'Pipelock'}),
    validity: Flags.string({description: 'CA validity as a Go duration (at most 2562047h, about 292 years)', default: '87600h'}),
    out: Flags.string({description: 'directory for ca.pem and ca-key.pem (default: the pipelock home)'}),
    force: Flags.boolean({description: 'overwrite an existing CA', default: false}),
    home: Flags.string({description: 'pipelock home directory (default $PIPELOCK_HOME or ~/.pipelock)'}),
  }

  async run(): Promise<TlsInitResult> {
    const {flags} = await this.parse(TlsInit)
    const dir = flags.out ?? resolveKeystoreDir({home: flags.home, env: process.env, userHome: homedir()})
    const r = initCa({dir, org: flags.org, validity: flags.validity, force: flags.force, nowMs: Date.now()})
    this.out(`CA certificate: ${r.certPath}`)
    this.out(`CA private key: ${r.keyPath}`)
    this.out()
    this.out("Next: run 'pipelock tls install-ca' to add the CA to your system trust store.")
    return r
  }
}
