import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {WebSocketServer} from 'ws'
import {emitSignedYaml, JsonNumber, type JsonObject, type JsonValue} from '../../src/plugins/canonical/index.js'
import {contractHash, loadContract, signCanonical} from '../../src/plugins/contracts/index.js'
import type {Ed25519KeyPair} from '../../src/plugins/signing/index.js'
import {repoPath} from '../helpers/vectors.js'
import {learnLockLines} from '../helpers/lock-roster.js'
import {cli, makeLab, promoteArgs, type Lab} from './learn-promote-harness.js'
import {rawExchange, startProxy, stopProxyAndServer, type RunningProxy} from './proxy-harness.js'

// What reaches the upstream is what the live contract judged (learn-lifecycle §7.6, transports
// §3.2): a contract on 127.0.0.23 (port 80, so this needs root like the closed-loop test) allows
// GET of a few paths only; an upstream on 127.0.0.9:80 records every request line it receives.
// A path spelling the gate allows must arrive as that path, never as another one the contract
// denies.

const HOST = '127.0.0.23'

const map = (o: Record<string, JsonValue>): JsonObject => new Map(Object.entries(o))

/** A signed enforce contract whose rules are `GET <path>` on HOST (a path with `*` at `collapsed` is a collapsed one). */
function writeContract(lab: Lab, paths: {value: string; collapsed?: number}[]): string {
  const golden = loadContract(readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml'), 'utf8'), 'contract.yaml')
  const body: JsonObject = new Map(golden.body)
  const base = (body.get('rules') as JsonObject[])[0] as JsonObject
  const rules = paths.map((p, i) => {
    const entry = map({data_class: 'public', value: p.value})
    if (p.collapsed !== undefined) entry.set('normalization', map({collapsed_segments: [map({index: new JsonNumber(String(p.collapsed))})]}))
    const selector = map({host: map({data_class: 'public', value: HOST}), methods: ['GET'], paths: [entry]})
    return new Map(base).set('rule_id', `r-parity-${i}`).set('rule_kind', 'http_destination').set('lifecycle_state', 'enforce').set('selector', selector)
  })
  body.set('rules', rules)
  body.set('signer_key_id', 'ci-compile')
  body.set('contract_hash', contractHash(body))
  const signature = signCanonical(body, lab.keys.get('ci-compile') as Ed25519KeyPair)
  const file = path.join(lab.dir, 'parity.yaml')
  writeFileSync(file, emitSignedYaml(new Map<string, JsonValue>([['body', body], ['signature', signature]])))
  return file
}

describe('learn_lock live: the upstream gets the path the contract judged', {timeout: 60_000}, () => {
  const lab = makeLab()
  // `/v1/files/a\b` as compile writes a captured `/v1/files/a%5Cb`: one segment holding a backslash.
  const promoted = cli(promoteArgs(lab, writeContract(lab, [{value: '/v1/public'}, {value: '/v1/files/a\\b'}, {value: '/v1/users/*', collapsed: 3}]), ['--environment-id', 'prod']))
  const seen: string[] = []
  let proxy: RunningProxy | undefined
  let server: http.Server | undefined
  after(() => stopProxyAndServer(proxy, server))

  it('a WebSocket handshake to a path with a backslash reaches that path, not the one a WHATWG parser makes of it', async () => {
    assert.equal(promoted.code, 0, promoted.stderr)
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      res.end('ok')
    })
    const wss = new WebSocketServer({server, perMessageDeflate: false})
    wss.on('connection', (ws, req) => {
      seen.push(`WS ${req.url}`)
      ws.close()
    })
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${HOST}:80 (${e.code}); this test needs root to bind port 80`)))
      server!.listen(80, HOST, () => resolve())
    })
    proxy = await startProxy(['forward_proxy: {enabled: true}', 'ssrf: {ip_allowlist: ["127.0.0.0/8"]}', 'websocket_proxy: {enabled: true}', ...learnLockLines(lab.store, lab.roster, lab.fp)].join('\n') + '\n')
    const handshake = async (target: string): Promise<string> => {
      const head = [
        `GET /ws?url=${encodeURIComponent(target)} HTTP/1.1`, 'Host: 127.0.0.1', 'X-Pipelock-Agent: shop-agent', 'Upgrade: websocket', 'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13',
      ].join('\r\n')
      const answer = await rawExchange(proxy!.port, head + '\r\n\r\n', {untilHeaders: true})
      return answer.split('\r\n', 1)[0] ?? ''
    }
    // Sanity: the contract allows the literal path and denies a path it does not list.
    assert.match(await handshake(`ws://${HOST}/v1/public`), / 101 /)
    assert.match(await handshake(`ws://${HOST}/v1/files/a/b`), / 403 /)
    seen.length = 0
    // Allowed as the one segment `a\b`; it must not arrive as /v1/files/a/b, which the contract denies.
    assert.match(await handshake(`ws://${HOST}/v1/files/a\\b`), / 101 /)
    assert.deepEqual(seen, ['WS /v1/files/a%5Cb'])
  })

  it('a collapsed segment is not one the upstream may split or resolve: backslash, %5C, overlong UTF-8 dots, double encoding', async () => {
    assert.ok(proxy !== undefined, 'the proxy of the first test')
    const forward = async (target: string): Promise<string> => {
      const answer = await rawExchange(proxy!.port, `GET ${target} HTTP/1.1\r\nHost: ${HOST}\r\nX-Pipelock-Agent: shop-agent\r\nConnection: close\r\n\r\n`, {untilHeaders: true})
      return answer.split('\r\n', 1)[0] ?? ''
    }
    seen.length = 0
    assert.match(await forward(`http://${HOST}/v1/users/8f3a2c`), / 200 /)
    assert.deepEqual(seen, ['GET /v1/users/8f3a2c'])
    seen.length = 0
    // Each is one segment to the matcher, but `/v1/users/x/admin`, `/v1` or `/v1/users/a/b` to some upstreams.
    for (const p of ['/v1/users/x\\admin', '/v1/users/x%5Cadmin', '/v1/users/%c0%ae%c0%ae', '/v1/users/%2e%252e', '/v1/users/a%252fb']) assert.match(await forward(`http://${HOST}${p}`), / 403 /, p)
    assert.deepEqual(seen, [])
  })
})
