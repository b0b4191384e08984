import {homedir} from 'node:os'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../../cli/base-command.js'
import {loadStore, parseHttpRequest, storeLocation, verifyWithStore} from '../../../plugins/envelope/index.js'
import {PipelockError} from '../../../plugins/errors/index.js'

export default class EnvelopeTrustVerify extends BaseCommand {
  static override summary = 'Check the trust store, or verify a signed request read from stdin against it'
  static override description = `Without --stdin: checks the store loads and has one key per trust domain, and prints "trust store ready<TAB><n> trusted peer(s)". With --stdin: reads one HTTP/1.x request (at most 17825792 bytes, body at most 16777216) and verifies its Pipelock-Mediation envelope and pipelock1 RFC 9421 signature with the key of the actor's trust domain (skew 60 s, no lifetime cap), then requires the actor to be trusted (a domain record: any workload; a SPIFFE ID record: exactly it). An origin-form request line is rebuilt as http://<Host><target>: give https requests in absolute form. Prints "verified<TAB>actor=<a><TAB>trust_domain=<d>".

Exit 2 for store or input errors, 3 when verification fails.`
  static override examples = [
    {description: 'Is the store usable?', command: '<%= config.bin %> envelope trust verify'},
    {description: 'Verify a request captured at a downstream service', command: '<%= config.bin %> envelope trust verify --stdin < captured-request.http'},
  ]
  static override enableJsonFlag = true
  static override flags = {
    stdin: Flags.boolean({description: 'read one HTTP/1.x request from stdin and verify it', default: false}),
    store: Flags.string({description: 'trust store file (default $XDG_STATE_HOME/pipelock/envelope/trust.json)'}),
  }

  async run(): Promise<{ready: true; peers: number} | {verified: true; actor: string; trust_domain: string}> {
    const {flags} = await this.parse(EnvelopeTrustVerify)
    const loc = storeLocation(flags.store, process.env, homedir())
    const records = loadStore(loc.file, loc.root) ?? []
    if (records.length === 0) throw new PipelockError('ENVELOPE_TRUST_INVALID', 'trust store is empty')
    if (!flags.stdin) {
      verifyWithStore(records, {method: 'GET', target: '/', headers: {}, body: null}, undefined, true)
      this.out(`trust store ready\t${records.length} trusted peer(s)`)
      return {ready: true, peers: records.length}
    }
    const chunks: Buffer[] = []
    for await (const c of process.stdin) chunks.push(c as Buffer)
    const r = verifyWithStore(records, parseHttpRequest(Buffer.concat(chunks)))
    this.out(`verified\tactor=${r.actor}\ttrust_domain=${r.trust_domain}`)
    return r
  }
}
