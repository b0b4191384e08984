/**
 * `websocket_proxy.max_message_bytes` changed by a hot reload of a live `pipelock run` (seed:
 * "Restart? No"; docs/run.md, WebSocket proxy): every new `/ws` connection takes the limit in
 * force, both ways, and a message over it is refused as the start-up limit refuses one — close
 * `1009`, audit `ws_blocked` scanner `ws_protocol` `message too large`, never a DLP match. An open
 * connection keeps the limit it was opened with.
 */
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import {startProxy, tempDir, until, type RunningProxy} from './proxy-harness.js'

const config = (max: number): string => [
  'ssrf:', '  ip_allowlist: ["127.0.0.1/32"]',
  'forward_proxy:', '  enabled: true',
  'websocket_proxy:', '  enabled: true', `  max_message_bytes: ${max}`,
].join('\n') + '\n'

async function reload(proxy: RunningProxy, yaml: string): Promise<void> {
  const count = (): number => proxy.stdout().split('"message":"config reloaded"').length
  const n = count()
  writeFileSync(path.join(proxy.dir, 'pipelock.yaml'), yaml)
  assert.ok(await until(async () => count() > n, 10_000), `the reload was applied:\n${proxy.stderr()}`)
}

function open(proxy: RunningProxy, port: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(`ws://127.0.0.1:${port}/`)}`)
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

/** Sends `n` bytes of text: `echo <length>` when it came back, else `close <code> <reason>`. */
function exchange(ws: WebSocket, n: number): Promise<string> {
  return new Promise((resolve) => {
    const done = (s: string): void => {
      ws.removeAllListeners('message')
      ws.removeAllListeners('close')
      resolve(s)
    }
    ws.once('message', (m) => done(`echo ${m.toString().length}`))
    ws.once('close', (code, reason) => done(`close ${code} ${reason.toString()}`))
    ws.send('x'.repeat(n))
  })
}

const blockedLines = (proxy: RunningProxy): string[] => proxy.stdout().split('\n').filter((l) => l.includes('"event":"ws_blocked"'))

describe('websocket_proxy.max_message_bytes across hot reloads', {timeout: 60_000}, () => {
  let echo: WebSocketServer
  let port: number
  let proxy: RunningProxy
  before(async () => {
    // A text echo: what the client sent comes back as it was sent.
    echo = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false, maxPayload: 1 << 20})
    echo.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, {binary: isBinary})))
    await new Promise<void>((resolve) => echo.once('listening', () => resolve()))
    port = (echo.address() as AddressInfo).port
    proxy = await startProxy(config(100), {dir: tempDir('pl-ws-reload-')})
  })
  after(async () => {
    await proxy?.stop()
    for (const c of echo?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => (echo ? echo.close(() => resolve()) : resolve()))
  })

  it('raised: new connections take the new limit; one opened before keeps its own', async () => {
    const old = await open(proxy, port)
    assert.equal(await exchange(old, 50), 'echo 50')
    await reload(proxy, config(1000))
    const fresh = await open(proxy, port)
    assert.equal(await exchange(fresh, 500), 'echo 500')
    fresh.close()
    // The connection opened under 100 bytes still refuses 500, as at start-up.
    assert.equal(await exchange(old, 500), 'close 1009 ')
    assert.ok(await until(async () => blockedLines(proxy).length === 1))
    const [line] = blockedLines(proxy)
    assert.match(line!, /"direction":"client_to_server","scanner":"ws_protocol","reason":"message too large"/)
  })

  it('lowered: a new connection refuses the message as too large (1009, ws_protocol), not as a DLP match', async () => {
    await reload(proxy, config(2000))
    const old = await open(proxy, port)
    await reload(proxy, config(100))
    const fresh = await open(proxy, port)
    assert.equal(await exchange(fresh, 500), 'close 1009 ')
    // The connection opened under 2000 bytes still relays 500.
    assert.equal(await exchange(old, 500), 'echo 500')
    old.close()
    assert.ok(await until(async () => blockedLines(proxy).length === 2))
    const last = blockedLines(proxy).at(-1)!
    assert.match(last, /"scanner":"ws_protocol","reason":"message too large"/)
    assert.doesNotMatch(proxy.stdout(), /dlp_match|max_body_bytes/)
  })
})
