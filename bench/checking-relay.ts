/**
 * The floor of a scanning proxy for the `proxy` bench (issue 36), measured as a relay: the bare
 * relay (`bare-relay.ts`: one `node:http` server, one undici Agent) that also runs, on every
 * request, exactly the checks a pipelock arm must run on the bench's workload with that arm's
 * config file (`proxy-floor.ts`): the URL scan (with the arm's rate limiter and data budget), header
 * DLP of the client's request headers and, on the response body it buffers before answering (a
 * body is checked before its first byte goes out), the response check — for a text body the RE2
 * walks runtime.md §7 requires (`scan-floor.ts`: their inputs built once per distinct body, not per
 * request), for a binary body the check as the forward exchange runs it (`decideResponseBody`).
 * No gate, no policy, no record step, no logging.
 *
 * Why a relay and not the checks' CPU per call added to the bare relay's: in a hot loop the
 * checks run with the CPU's caches and predictors holding their code and tables; between two
 * relayed requests they do not (docs/benchmarks.md, proxy). What a proxy that relays like the
 * bare relay and runs these checks uses is what this process uses.
 *
 *   node dist/bench/checking-relay.js --config FILE [--markup]   → prints "port <n>" on stdout, serves until killed
 */
import {isUtf8} from 'node:buffer'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {Agent} from 'undici'
import {headerList} from '../src/plugins/proxy/index.js'
import {floorCheckers} from './proxy-floor.js'
import {responseWalks, walk, type Walk} from './scan-floor.js'

const arg = (name: string): string | undefined => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined)
const configFile = arg('--config')
if (configFile === undefined) throw new Error('--config FILE is required')
const markup = process.argv.includes('--markup')
const {scanner, urlContext: ctx} = floorCheckers(configFile)

/** The walks of the last distinct text body (the bench's origin serves one body). */
let walked: {body: Buffer; walks: Walk[]} | null = null

/** The response check of `body`: the walks of a text body, else pipelock's check of a binary one; true when it passes. */
function responsePasses(body: Buffer, host: string, contentType: string | undefined): boolean {
  if (!isUtf8(body)) return scanner.decideResponseBody(body, {host, approverAvailable: false, ...(contentType === undefined ? {} : {contentType})}).action === 'allow'
  if (walked === null || !walked.body.equals(body)) walked = {body, walks: responseWalks(scanner.response, markup, body.toString('utf8'))}
  walk(walked.walks)
  return true
}

const agent = new Agent({keepAliveTimeout: 60_000})
const refuse = (res: http.ServerResponse): void => {
  res.writeHead(403)
  res.end()
}
const server = http.createServer((req, res) => {
  void (async () => {
    const url = req.url ?? ''
    if (!(await scanner.scanUrl(url, ctx)).allowed) return refuse(res)
    if (scanner.scanRequestHeaders(headerList(req)).action !== 'allow') return refuse(res)
    const target = new URL(url)
    const up = await agent.request({origin: target.origin, path: target.pathname + target.search, method: 'GET', headers: {host: target.host}})
    const chunks: Buffer[] = []
    for await (const c of up.body) chunks.push(c as Buffer)
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    const type = up.headers['content-type']
    if (!responsePasses(body, target.hostname, typeof type === 'string' ? type : undefined)) return refuse(res)
    res.writeHead(up.statusCode, up.headers as http.OutgoingHttpHeaders)
    res.end(body)
  })().catch(() => {
    if (!res.headersSent) res.writeHead(502)
    res.end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`))
process.on('SIGTERM', () => process.exit(0))
