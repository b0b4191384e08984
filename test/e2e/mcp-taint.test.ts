/**
 * Taint over MCP through the built `pipelock mcp proxy` (policy-extra §1.3, §1.10): an SDK client
 * on stdio, the proxy, and an SDK fixture server — remote (Streamable HTTP, `--upstream`) or local
 * (a stdio child). A remote server's messages taint the session, so a tool call that edits a
 * protected path is denied with -32002; the same calls to a local server pass. A response the
 * scanner flags as injection makes the session hostile: then every write is blocked.
 */
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, before, describe, test} from 'node:test'
import {startHttpFixture} from '../mcp/fixtures/fixture-tools.js'
import {rejection, wrapMcpProxy, type WrappedClient} from '../helpers/mcp.js'
import {repoPath} from '../helpers/vectors.js'

const FIXTURE = repoPath('dist/test/mcp/fixtures/sdk-server.js')
const ENV = {PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? ''}
const DIR = mkdtempSync(path.join(tmpdir(), 'pl-mcp-taint-'))
after(() => rmSync(DIR, {recursive: true, force: true}))

function config(name: string, policy: string): string {
  const file = path.join(DIR, name)
  // Response scanning warns, so the injecting tool's result reaches the client and taints the session.
  writeFileSync(file, ['session_profiling:', '  enabled: true', 'response_scanning:', '  mcp_action: warn', 'taint:', `  policy: ${policy}`, ''].join('\n'))
  return file
}

const text = (r: unknown): string => ((r as {content: Array<{text: string}>}).content[0]!.text)

describe('MCP taint: a remote (HTTP) server taints the session', {timeout: 120_000}, () => {
  let fixture: Awaited<ReturnType<typeof startHttpFixture>>
  let w: WrappedClient
  before(async () => {
    fixture = await startHttpFixture()
    w = await wrapMcpProxy(['--config', config('balanced.yaml', 'balanced'), '--upstream', fixture.url], ENV, 'pipelock-taint-e2e')
  })
  after(async () => {
    await w.close()
    await fixture.close()
  })

  test('editing a protected path is -32002 with the matrix reason; reads and unprotected writes pass', async () => {
    assert.equal(text(await w.client.callTool({name: 'echo', arguments: {text: 'hi'}})), 'hi')

    const e = await rejection(w.client.callTool({name: 'write_file', arguments: {path: '/repo/.github/workflows/ci.yml'}}))
    assert.equal(e.code, -32002)
    assert.equal(e.message, 'MCP error -32002: pipelock: protected_write_after_untrusted_external_exposure')
    assert.match(text(await w.client.callTool({name: 'write_file', arguments: {path: '/repo/src/main.ts'}})), /^write_file /)
    const x = await rejection(w.client.callTool({name: 'bash', arguments: {command: 'ls'}}))
    assert.equal(x.message, 'MCP error -32002: pipelock: mutating_exec_after_untrusted_external_exposure')
    assert.match(w.stderr(), /tools\/call "write_file" taint_ask_denied: protected_write_after_untrusted_external_exposure \(mcp:write_file:\/repo\/\.github\/workflows\/ci\.yml\)/)
  })

  test('after an injected response the session is hostile: every write is blocked', async () => {
    await w.client.callTool({name: 'inject', arguments: {}})
    const e = await rejection(w.client.callTool({name: 'write_file', arguments: {path: '/repo/src/main.ts'}}))
    assert.equal(e.message, 'MCP error -32002: pipelock: sensitive_action_after_hostile_external_exposure')
    assert.equal(text(await w.client.callTool({name: 'echo', arguments: {text: 'still reads'}})), 'still reads')
  })
})

describe('MCP taint: a local (stdio) server does not taint; strict asks for elevated writes', {timeout: 120_000}, () => {
  test('stdio: the protected edit passes (internal content)', async () => {
    const w = await wrapMcpProxy(['--config', config('stdio.yaml', 'balanced'), '--', process.execPath, FIXTURE], ENV, 'pipelock-taint-e2e')
    try {
      assert.match(text(await w.client.callTool({name: 'write_file', arguments: {path: '/repo/.github/workflows/ci.yml'}})), /^write_file /)
      assert.match(text(await w.client.callTool({name: 'bash', arguments: {command: 'ls'}})), /^bash /)
    } finally {
      await w.close()
    }
  })

  test('strict over HTTP: an elevated write asks (denied); balanced lets it through', async () => {
    const fixture = await startHttpFixture()
    try {
      for (const [policy, denied] of [['strict', true], ['balanced', false]] as const) {
        const w = await wrapMcpProxy(['--config', config(`${policy}-2.yaml`, policy), '--upstream', fixture.url], ENV, 'pipelock-taint-e2e')
        try {
          const call = w.client.callTool({name: 'write_file', arguments: {path: '/srv/config/db.yaml'}})
          if (denied) assert.equal((await rejection(call)).message, 'MCP error -32002: pipelock: elevated_write_after_untrusted_external_exposure')
          else assert.match(text(await call), /^write_file /)
        } finally {
          await w.close()
        }
      }
    } finally {
      await fixture.close()
    }
  })
})
