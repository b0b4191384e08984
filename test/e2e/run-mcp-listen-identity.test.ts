/**
 * `pipelock run --mcp-listen`: what a client earned on the HTTP proxy under a name it only
 * claimed (`X-Pipelock-Agent`) holds on the MCP listener, where the same client has no name at
 * all (docs/agents.md, "Identity an agent cannot shed"): a client tainted as `reader` has its
 * protected write refused over MCP, a client raised to `elevated` as `evil` has its warn-only DLP
 * finding upgraded to a block over MCP. A client whose address `source_cidrs` binds is a bound
 * identity: its MCP calls are judged in the one session its HTTP traffic uses (`builder|<ip>`), so
 * what that session earned over HTTP (taint, escalation) holds its tool calls too, while another
 * address bound to the same agent is a session of its own; a fresh address is untouched. Real
 * sockets: the official MCP SDK client, connecting from its own loopback address, against an SDK
 * fixture server.
 */
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {Agent, fetch as undiciFetch} from 'undici'
import {stringify} from 'yaml'
import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StreamableHTTPClientTransport} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {rejection} from '../helpers/mcp.js'
import {mcpListenUrl, presetConfig, rawHttp, startHttpUpstream, startProxy, until, type RunningProxy, type Upstream} from './proxy-harness.js'

const AWS_KEY = ['AKIA', 'QYLPMN5HHHFPZAM2'].join('') // built at run time: not a literal credential
// An unprotected write: an MCP client of a remote server is external_untrusted by its own
// handshake, and balanced lets such a write through; only hostile content refuses it.
const WRITE = '/repo/src/main.ts'

/** An SDK client of the MCP listener whose connections come from `from`. */
async function mcpClientFrom(proxy: RunningProxy, from: string): Promise<{client: Client; close: () => Promise<void>}> {
  const dispatcher = new Agent({localAddress: from})
  const client = new Client({name: `mcp-identity-${from}`, version: '1.0.0'})
  const fetch = ((url: string | URL, init?: RequestInit) => undiciFetch(url, {...(init as object), dispatcher})) as unknown as typeof globalThis.fetch
  await client.connect(new StreamableHTTPClientTransport(new URL(mcpListenUrl(proxy)), {fetch}))
  return {client, close: async () => {
    await client.close()
    await dispatcher.close()
  }}
}

const text = (r: unknown): string => ((r as {content: Array<{text: string}>}).content[0]!.text)

describe('pipelock run --mcp-listen: taint and escalation held per client address for a claimed name', {timeout: 120_000}, () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>
  let up: Upstream
  let proxy: RunningProxy
  let base = ''
  before(async () => {
    fixture = await startHttpFixture()
    up = await startHttpUpstream()
    base = `http://127.0.0.1:${up.port}`
    const c = presetConfig('balanced')
    // The loopback upstream is trusted by IP and `localhost` is blocklisted: blocks need no DNS.
    c.ssrf = {ip_allowlist: ['127.0.0.1/32']}
    c.fetch_proxy.monitoring.blocklist = [...(c.fetch_proxy.monitoring.blocklist ?? []), 'localhost']
    // A DLP finding in tool arguments warns at level normal; the adaptive level upgrades it.
    c.mcp_input_scanning = {enabled: true, action: 'warn'}
    c.agents = {...(c.agents ?? {}), builder: {source_cidrs: ['127.0.0.43/32', '127.0.0.44/32']}}
    proxy = await startProxy(stringify(c), {args: ['--mcp-listen', '127.0.0.1:0', '--mcp-upstream', fixture.url]})
  })
  after(async () => {
    await proxy?.stop()
    await fixture?.close()
    await up?.close()
  })

  /** HTTP as `agent` from `from`: a page with a prompt injection (response scanning warns): the session is hostile. */
  const readHostile = async (agent: string, from: string): Promise<void> => {
    assert.equal((await rawHttp(proxy.port, {path: `${base}/injection`, headers: {'X-Pipelock-Agent': agent}, from})).status, 200)
  }
  /** HTTP as `agent` from `from`: two blocked requests raise its session (`session`) to elevated. */
  const escalate = async (agent: string, from: string, session: string): Promise<void> => {
    for (let i = 0; i < 2; i++) assert.equal((await rawHttp(proxy.port, {path: `http://localhost:${up.port}/e${i}`, headers: {'X-Pipelock-Agent': agent}, from})).status, 403)
    assert.ok(await until(async () => proxy.stdout().split('\n').some((l) => l.includes('"event":"adaptive_escalation"') && l.includes(`"session":"${session}"`) && l.includes('"to":"elevated"')), 3000), proxy.stdout())
  }
  /** Runs `fn` with an MCP client connected from `from`, and closes it. */
  const withClient = async (from: string, fn: (m: {client: Client}) => Promise<void>): Promise<void> => {
    const m = await mcpClientFrom(proxy, from)
    try {
      await fn(m)
    } finally {
      await m.close()
    }
  }
  const write = (m: {client: Client}) => m.client.callTool({name: 'write_file', arguments: {path: WRITE}})
  const echoKey = (m: {client: Client}) => m.client.callTool({name: 'echo', arguments: {text: AWS_KEY}})

  test('a fresh client address: the write and the warned DLP finding pass over MCP', async () => {
    await withClient('127.0.0.40', async (m) => {
      assert.equal(text(await write(m)), `write_file {"path":"${WRITE}"}`)
      assert.equal(text(await echoKey(m)), AWS_KEY)
    })
  })

  test('hostile as `reader` on HTTP: the same client\'s write over MCP is -32002', async () => {
    const from = '127.0.0.41'
    await readHostile('reader', from)
    await withClient(from, async (m) => {
      const e = await rejection(write(m))
      assert.deepEqual([e.code, e.message], [-32002, 'MCP error -32002: pipelock: sensitive_action_after_hostile_external_exposure'])
    })
  })

  test('raised to elevated as `evil` on HTTP: the same client\'s warned DLP finding over MCP is blocked', async () => {
    const from = '127.0.0.42'
    await escalate('evil', from, `evil|${from}`)
    await withClient(from, async (m) => {
      const e = await rejection(echoKey(m))
      assert.deepEqual([e.code, e.message], [-32001, 'MCP error -32001: pipelock: request blocked by MCP input scanning'])
    })
  })

  test('a bound identity\'s MCP calls are its HTTP session\'s: taint and escalation earned over HTTP hold its tool calls', async () => {
    const from = '127.0.0.43'
    // Bound by source_cidrs: the header is not its name, the HTTP session is builder's.
    await readHostile('someone-else', from)
    await escalate('someone-else', from, `builder|${from}`)
    await withClient(from, async (m) => {
      const w = await rejection(write(m))
      assert.deepEqual([w.code, w.message], [-32002, 'MCP error -32002: pipelock: sensitive_action_after_hostile_external_exposure'])
      const e = await rejection(echoKey(m))
      assert.deepEqual([e.code, e.message], [-32001, 'MCP error -32001: pipelock: request blocked by MCP input scanning'])
    })
    // The audit lines of both MCP blocks name the one session the two transports share.
    const blocks = (): unknown[][] => {
      const lines = proxy.stdout().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
      const since = lines.findIndex((l) => l.event === 'adaptive_escalation' && l.session === `builder|${from}`)
      return lines.slice(since).filter((l) => l.event === 'blocked' && l.method === 'MCP').map((l) => [l.resource, l.session])
    }
    // The audit lines reach this test through the proxy's stdout pipe, which can lag the MCP answers.
    assert.ok(await until(async () => blocks().length >= 2, 3000), proxy.stdout())
    assert.deepEqual(blocks(), [['write_file', `builder|${from}`], ['echo', `builder|${from}`]])
  })

  test('another address bound to the same agent is a session of its own: its write and warned DLP finding pass over MCP', async () => {
    await withClient('127.0.0.44', async (m) => {
      assert.equal(text(await write(m)), `write_file {"path":"${WRITE}"}`)
      assert.equal(text(await echoKey(m)), AWS_KEY)
    })
  })
})
