/**
 * Address-poisoning protection on MCP tool-call arguments (issue 38, scanners-extra §4.4, mcp.md
 * §4.2): `pipelock mcp proxy` starts with `address_protection` enabled (it used to refuse the
 * section), a wallet address one character off an allowlisted one in a tools/call's arguments is
 * blocked with the reason the HTTP address stage puts in its block header (`dlp_match`), the
 * allowlisted address passes, and `action: warn` forwards the call with a warning. Through the
 * built CLI with the MCP SDK client; one receipt per call.
 */
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {createHash} from 'node:crypto'
import {afterEach, describe, it} from 'node:test'
import {keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {writeReceiptKeys} from './proxy-harness.js'
import {runCli} from '../helpers/cli.js'
import {rejection, wrapMcpProxy, type WrappedClient} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const ALLOWED = '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed'
const ONE_OFF = '0x5aaeb6053f3e94c9b9b09f33669435e7ef1beaed'
const dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-address-'))
writeReceiptKeys(dir, keyPairFromSeed(createHash('sha256').update('pipelock-e2e-mcp-address').digest()))
const ENV = {PATH: process.env.PATH ?? '', HOME: dir, PIPELOCK_HOME: path.join(dir, '.pipelock'), NO_COLOR: '1'}

function config(name: string, action: string, recorder: string): string {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, ['address_protection:', '  enabled: true', `  action: ${action}`, '  allowed_addresses:', `    - "${ALLOWED}"`, 'flight_recorder:', '  enabled: true', `  dir: ${recorder}`, `  signing_key_path: ${path.join(dir, 'receipt.key')}`, ''].join('\n'))
  return file
}

/** The tools/call receipts the wrap recorded: [tool, verdict, layer, pattern]. */
function receipts(recorder: string): string[][] {
  const out: string[][] = []
  if (!existsSync(recorder)) return out
  for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const l of readFileSync(path.join(recorder, f), 'utf8').split('\n').filter((x) => x.trim() !== '')) {
      const e = JSON.parse(l) as {type: string; detail: {action_record?: Record<string, string>}}
      const r = e.detail.action_record
      if (e.type === 'action_receipt' && r !== undefined && !r.target!.startsWith('session:')) out.push([r.target!, r.verdict!, r.layer ?? '', r.pattern ?? ''])
    }
  }
  return out
}

const opened: WrappedClient[] = []
async function wrap(cfg: string): Promise<WrappedClient> {
  const w = await wrapMcpProxy(['--config', cfg, '--', process.execPath, FIXTURE], ENV)
  opened.push(w)
  return w
}

describe('mcp proxy: address protection on tool-call arguments', {timeout: 90_000}, () => {
  afterEach(async () => {
    await Promise.allSettled(opened.splice(0).map((w) => w.close()))
  })

  it('block: a lookalike address in the arguments is refused with dlp_match; the allowlisted one passes', async () => {
    const recorder = path.join(dir, 'block-recorder')
    const w = await wrap(config('block', 'block', recorder))
    assert.deepEqual((await w.client.callTool({name: 'echo', arguments: {text: `pay ${ALLOWED}`}})).content, [{type: 'text', text: `pay ${ALLOWED}`}])
    const e = await rejection(w.client.callTool({name: 'echo', arguments: {text: `pay ${ONE_OFF}`}}))
    assert.equal(e.code, -32001)
    assert.equal(e.message, 'MCP error -32001: pipelock: request blocked by MCP input scanning')
    assert.deepEqual(e.data, {block_reason: 'dlp_match'})
    await w.close()
    const deadline = Date.now() + 10_000
    while (receipts(recorder).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    assert.deepEqual(receipts(recorder), [['echo', 'allow', '', ''], ['echo', 'block', 'mcp_input_scanning', 'address:ETH address 0x5aaeb6...1beaed resembles allowlisted 0x5aaeb6...1beaed: first 4 and last 4 payload characters match, middle differs (possible address poisoning)']])
    const v = runCli(['verify-receipt', '--chain', recorder, '--key', path.join(dir, 'receipt.pub'), '--json'])
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.match(w.stderr(), /blocked tools\/call request \(address:ETH address 0x5aaeb6\.\.\.1beaed resembles allowlisted 0x5aaeb6\.\.\.1beaed/)
    assert.equal(w.stderr().includes(ONE_OFF), false, 'the full address is not logged')
  })

  it('warn: the call is forwarded and the finding is a warning', async () => {
    const w = await wrap(config('warn', 'warn', path.join(dir, 'warn-recorder')))
    assert.deepEqual((await w.client.callTool({name: 'echo', arguments: {text: `pay ${ONE_OFF}`}})).content, [{type: 'text', text: `pay ${ONE_OFF}`}])
    const deadline = Date.now() + 10_000
    while (!/warning — tools\/call request contains flagged content \(address:ETH address/.test(w.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25))
    assert.match(w.stderr(), /warning — tools\/call request contains flagged content \(address:ETH address 0x5aaeb6\.\.\.1beaed resembles allowlisted/)
  })
})
