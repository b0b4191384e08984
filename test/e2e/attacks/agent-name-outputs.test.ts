/**
 * Attack class (issue 37 item 4): a secret used as the agent's name, spelt so the name check must
 * look twice — a zero-width space inside it (sent as UTF-8 bytes), a separator inside it, or as
 * is — through forward, /fetch (header and query), CONNECT and /ws, with the flight recorder and
 * capture on. Then every output is searched: audit log, stderr, /stats, /metrics, the recorder
 * directory and the capture directory, with the separators the sanitiser adds taken out.
 */
import assert from 'node:assert/strict'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'
import WebSocket, {WebSocketServer} from 'ws'
import type {AddressInfo} from 'node:net'
import {githubToken} from '../../unit/scanner/fixtures.js'
import {rawHttp, startProxy, tempDir, type RunningProxy} from '../proxy-harness.js'
import {attackConfig, AWS_KEY, startLoggingUpstream, type LoggingUpstream} from './attack-harness.js'

const GH = githubToken(43)
/** The names sent: [label, value as the client means it]. */
const NAMES: Array<[string, string]> = [
  ['AWS key with a zero-width space', AWS_KEY.slice(0, 8) + '\u200b' + AWS_KEY.slice(8)],
  ['AWS key with a slash', AWS_KEY.slice(0, 4) + '/' + AWS_KEY.slice(4)],
  ['AWS key with a colon and a space', AWS_KEY.slice(0, 10) + ': ' + AWS_KEY.slice(10)],
  ['GitHub token', GH],
]
/** Node writes header strings as latin1: a UTF-8 value goes as its bytes. */
const wire = (s: string): string => Buffer.from(s, 'utf8').toString('latin1')

function filesUnder(dir: string): string[] {
  let out: string[] = []
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return out
  }
  for (const n of names) {
    const p = path.join(dir, n)
    out = statSync(p).isDirectory() ? [...out, ...filesUnder(p)] : [...out, p]
  }
  return out
}

/** Where `text` holds a secret once the sanitiser's separators are taken out. */
function leaks(text: string): string[] {
  const bare = text.split('_').join('').split('.').join('').split('-').join('')
  return [AWS_KEY, GH.slice(4)].filter((s) => bare.includes(s.split('_').join('')))
}

describe('attacks: a secret as the agent name, every output searched', {timeout: 90_000}, () => {
  let up: LoggingUpstream
  let proxy: RunningProxy
  let dir = ''
  let wss: WebSocketServer

  before(async () => {
    up = await startLoggingUpstream()
    wss = new WebSocketServer({port: 0, host: '127.0.0.1', perMessageDeflate: false})
    wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)))
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    dir = tempDir('pl-agent-name-')
    proxy = await startProxy(attackConfig(['websocket_proxy:', '  enabled: true', 'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(dir, 'evidence'))}`]), {
      dir, args: ['--capture-output', path.join(dir, 'capture')],
    })
  })
  after(async () => {
    await proxy?.stop()
    await up?.close()
    for (const c of wss?.clients ?? []) c.terminate()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  it('no output holds the secret, and each name was refused as a secret', async () => {
    const target = `http://127.0.0.1:${up.port}/`
    const wsTarget = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`
    for (const [, name] of NAMES) {
      const h = {'X-Pipelock-Agent': wire(name)}
      // A header that spells a secret may also be refused by header DLP (403): either way the
      // name is resolved (and refused) first.
      assert.ok([200, 403].includes((await rawHttp(proxy.port, {path: target, headers: h})).status))
      assert.ok([200, 403].includes((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}`, headers: h})).status))
      assert.equal((await rawHttp(proxy.port, {path: `/fetch?url=${encodeURIComponent(target)}&agent=${encodeURIComponent(name)}`})).status, 200)
      await new Promise<void>((resolve, reject) => {
        const req = http.request({host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${up.port}`, headers: h, agent: false})
        req.once('connect', (_res, socket) => {
          socket.end('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
          socket.resume()
          socket.once('close', () => resolve())
        })
        // A refused CONNECT answers with a response instead.
        req.once('response', (res) => {
          res.resume()
          resolve()
        })
        req.once('error', reject)
        req.end()
      })
      const ws = new WebSocket(`ws://${proxy.addr}/ws?url=${encodeURIComponent(wsTarget)}`, {perMessageDeflate: false, headers: h})
      await new Promise<void>((resolve, reject) => {
        ws.once('unexpected-response', (_req, res) => {
          res.resume()
          resolve()
        })
        ws.once('open', () => {
          ws.send('hello')
          ws.once('message', () => ws.close(1000))
        })
        ws.once('close', () => resolve())
        ws.once('error', reject)
      })
    }
    await new Promise((r) => setTimeout(r, 500))
    const outputs: Array<[string, string]> = [
      ['audit log', proxy.stdout()], ['stderr', proxy.stderr()],
      ['/stats', (await rawHttp(proxy.port, {path: '/stats'})).body], ['/metrics', (await rawHttp(proxy.port, {path: '/metrics'})).body],
      ...filesUnder(dir).map((f) => [path.relative(dir, f), readFileSync(f).toString('latin1')] as [string, string]),
    ]
    assert.ok(filesUnder(path.join(dir, 'evidence')).length > 0, 'the recorder wrote receipts')
    assert.ok(filesUnder(path.join(dir, 'capture')).length > 0, 'capture wrote records')
    const found = outputs.flatMap(([where, text]) => leaks(text).map((s) => `${where}: ${s.slice(0, 4)}…`))
    assert.deepEqual(found, [])
    // Every name above was refused: forward, /fetch (header, query), CONNECT, /ws — once each.
    const m = /pipelock_agent_names_rejected_total\{reason="dlp"\} (\d+)/.exec(outputs[3]![1])
    assert.equal(Number(m?.[1] ?? 0), NAMES.length * 5)
  })
})
