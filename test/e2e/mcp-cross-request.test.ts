/**
 * Cross-request reassembly of MCP tool calls under the strict preset as generated, `pipelock mcp
 * proxy` over stdio in front of a real (line-echo) server: a key split across the member names of
 * two calls, a card number split across two JSON numbers, and a key split across two calls that
 * each carry another argument are refused on the second call with -32005, which never reaches
 * the server. Calls with repeating arguments (pages, ids) pass.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {repoPath} from '../helpers/vectors.js'
import {driveMcpProxy} from './mcp-drive.js'

const BIN = repoPath('bin/run.js')
const SERVER = repoPath('test/mcp/fixtures/raw-server.mjs')
const INIT = [
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-03-26","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}',
  '{"jsonrpc":"2.0","id":2,"method":"tools/list"}',
]
const call = (id: number, args: unknown): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name: 'echo', arguments: args}})
const refused = (id: number, pattern: string): string =>
  `{"jsonrpc":"2.0","id":${id},"error":{"code":-32005,"message":"pipelock: cross-request fragment DLP match: ${pattern}","data":{"block_reason":"cross_request_deny"}}}`
/** The echo server answers a call it received with its params, as text content. */
const echoed = (id: number, args: unknown): string => JSON.stringify({jsonrpc: '2.0', id, result: {content: [{type: 'text', text: JSON.stringify({name: 'echo', arguments: args})}]}})

describe('mcp proxy (strict preset): cross-request reassembly reads member names, numbers as sent, and each argument on its own', {timeout: 120_000}, () => {
  let dir: string
  let cfg: string
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pipelock-mcp-cee-'))
    const g = spawnSync(process.execPath, [BIN, 'generate', 'config', '--preset', 'strict'], {encoding: 'utf8', env: {PATH: process.env.PATH ?? '', HOME: dir}})
    assert.equal(g.status, 0, g.stderr)
    assert.match(g.stdout, /cross_request_detection:\n {2}enabled: true/)
    cfg = path.join(dir, 'strict.yaml')
    writeFileSync(cfg, g.stdout, {mode: 0o600})
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  /** The two calls through a fresh proxy: the answer lines of the calls (initialize and tools/list left out). */
  const calls = async (...args: unknown[]): Promise<string[]> => {
    const r = await driveMcpProxy(['--config', cfg, '--', process.execPath, SERVER, 'echo'], [...INIT, ...args.map((a, i) => call(10 + i, a))])
    assert.equal(r.code, 0, r.err)
    return r.out.filter((l) => !/"id":[12],/.test(l))
  }

  const cases: Array<[string, unknown, unknown, string]> = [
    ['a key split across the member names of two calls', {AKIAZ7QW3E: 1}, {RT5YUI6OPL: 1}, 'AWS Access ID'],
    ['a card number split across two JSON numbers', {n: 41111111}, {n: 11111111}, 'Credit Card Number'],
    ['a key split across two calls that each carry another argument', {path: '/tmp/a', text: 'AKIAZ7QW3E'}, {path: '/tmp/b', text: 'RT5YUI6OPL'}, 'AWS Access ID'],
  ]
  for (const [name, first, second, pattern] of cases) {
    test(`${name}: the second call is refused with -32005 and never reaches the server`, async () => {
      assert.deepEqual(await calls(first, second), [echoed(10, first), refused(11, pattern)])
    })
  }

  test('calls with repeating arguments pass: pages, ids, the same path', async () => {
    const args = Array.from({length: 12}, (_, i) => ({path: '/srv/data', page: i + 1, id: `req-${i + 1}`, query: 'status report'}))
    assert.deepEqual(await calls(...args), args.map((a, i) => echoed(10 + i, a)))
  })
})
