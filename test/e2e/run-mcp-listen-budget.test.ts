/**
 * Denial-of-wallet budgets on `pipelock run --mcp-listen` (docs/mcp.md, "Denial-of-wallet
 * budgets"): the budget of the profile a client's address binds (`source_cidrs`), else
 * `_default`'s, never the one a client names; `max_concurrent_tool_calls` counts the calls a
 * client has out at the upstream — a call answered, or abandoned by its client, frees its slot;
 * `max_retries_per_endpoint` counts the calls naming one URL's host and path. Real sockets: raw
 * JSON-RPC POSTs from distinct loopback addresses, and an upstream MCP server that holds the `slow`
 * tool's answers until the test lets them go.
 */
import assert from 'node:assert/strict'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {after, before, describe, test} from 'node:test'
import {Agent, request} from 'undici'
import {stringify} from 'yaml'
import {mcpListenUrl, startProxy, startRoutedUpstream, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const budgetError = (id: number, reason: string): string =>
  `{"jsonrpc":"2.0","id":${id},"error":{"code":-32600,"message":"pipelock: ${reason}","data":{"block_reason":"data_budget"}}}`

describe('pipelock run --mcp-listen: denial-of-wallet budgets per bound profile', {timeout: 120_000}, () => {
  let up: Upstream
  let proxy: RunningProxy
  let url = ''
  /** `slow` calls the upstream holds: answering one lets it go. */
  const held: Array<() => void> = []
  const agents = new Map<string, Agent>()
  before(async () => {
    up = await startRoutedUpstream((req: IncomingMessage, res: ServerResponse) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        const msg = JSON.parse(body) as {id?: number; method?: string; params?: {name?: string}}
        const reply = (): void => {
          const out = JSON.stringify({jsonrpc: '2.0', id: msg.id, result: {content: [{type: 'text', text: `done ${msg.id}`}]}})
          if (!res.destroyed) res.writeHead(200, {'content-type': 'application/json'}).end(out)
        }
        if (msg.params?.name === 'slow') held.push(reply)
        else reply()
      })
    })
    const c = {
      agents: {
        _default: {budget: {max_concurrent_tool_calls: 1, max_retries_per_endpoint: 2}},
        builder: {source_cidrs: ['127.0.0.61/32'], budget: {max_tool_calls_per_session: 1}},
      },
    }
    proxy = await startProxy(stringify(c), {args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', `http://127.0.0.1:${up.port}/mcp`]})
    url = mcpListenUrl(proxy)
  })
  after(async () => {
    for (const release of held.splice(0)) release()
    for (const a of agents.values()) await a.close()
    await proxy?.stop()
    await up?.close()
  })

  /** A tools/call POSTed from `from`; `signal` aborts it. */
  const callFrom = async (from: string, id: number, name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<string> => {
    let dispatcher = agents.get(from)
    if (dispatcher === undefined) agents.set(from, (dispatcher = new Agent({localAddress: from})))
    const r = await request(url, {
      method: 'POST', dispatcher, signal,
      headers: {'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-pipelock-agent': 'builder'},
      body: JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name, arguments: args}}),
    })
    return await r.body.text()
  }

  test('max_concurrent_tool_calls: a second call while one is out is refused; the answer frees the slot', async () => {
    const first = callFrom('127.0.0.51', 1, 'slow', {n: 1})
    assert.ok(await until(async () => held.length === 1), 'the upstream holds the first call')
    assert.equal(await callFrom('127.0.0.52', 2, 'echo', {n: 2}), budgetError(2, 'concurrent tool call limit exceeded: 2/1 in flight'))
    held.shift()!()
    assert.match(await first, /"text":"done 1"/)
    assert.match(await callFrom('127.0.0.52', 3, 'echo', {n: 3}), /"text":"done 3"/)
  })

  test('max_concurrent_tool_calls: a call its client abandons frees its slot', async () => {
    const abort = new AbortController()
    const gone = callFrom('127.0.0.53', 4, 'slow', {n: 4}, abort.signal).catch((e: Error) => e.name)
    assert.ok(await until(async () => held.length === 1))
    abort.abort()
    assert.equal(await gone, 'AbortError')
    // The listener notices the closed request and gives the slot back.
    assert.ok(await until(async () => /"text":"done 5"/.test(await callFrom('127.0.0.53', 5, 'echo', {n: 5}))), 'the slot came back')
    held.shift()!()
  })

  test('max_retries_per_endpoint: the third call naming one host and path is refused', async () => {
    assert.match(await callFrom('127.0.0.54', 6, 'fetch', {url: 'https://api.example.com/v1/items?p=1'}), /"text":"done 6"/)
    assert.match(await callFrom('127.0.0.54', 7, 'fetch', {url: 'https://api.example.com/v1/items?p=2'}), /"text":"done 7"/)
    assert.equal(await callFrom('127.0.0.54', 8, 'fetch', {url: 'https://api.example.com/v1/items?p=3'}),
      budgetError(8, 'endpoint retry limit exceeded: api.example.com/v1/items called 3 times (limit 2)'))
  })

  test('the profile an address binds has its own budget; naming that profile from another address does not apply it', async () => {
    assert.match(await callFrom('127.0.0.61', 9, 'echo', {n: 9}), /"text":"done 9"/)
    assert.equal(await callFrom('127.0.0.61', 10, 'echo', {n: 10}), budgetError(10, 'tool call limit exceeded: 2/1'))
    // 127.0.0.62 claims `builder` in X-Pipelock-Agent: it gets _default's budget (no call limit).
    for (const id of [11, 12]) assert.match(await callFrom('127.0.0.62', id, 'echo', {n: id}), new RegExp(`"text":"done ${id}"`))
  })
})
