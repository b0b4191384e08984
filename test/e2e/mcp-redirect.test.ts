import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {after, describe, it} from 'node:test'
import {keyA} from '../helpers/receipt-fixtures.js'
import {repoPath} from '../helpers/vectors.js'
import {writeReceiptKeys} from './proxy-harness.js'

// Issue 39: the MCP tool policy `redirect` action (mcp.md §8.5, containment.md §6) through the
// built CLI and a real MCP server subprocess: a `bash` call matching a redirect rule never reaches
// the server; the profile's handler runs and its stdout is the tool result; a failing handler or
// one whose output carries a secret falls through to a block; each call is a receipt.

const RAW = repoPath('test/mcp/fixtures/raw-server.mjs')
const BIN = repoPath('bin/run.js')
const dir = mkdtempSync(path.join(tmpdir(), 'pl-mcp-redirect-'))
after(() => rmSync(dir, {recursive: true, force: true}))

function proxy(args: string[], input: string): {status: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [BIN, 'mcp', 'proxy', ...args], {input, encoding: 'utf8', timeout: 60_000, env: {PATH: process.env.PATH, HOME: dir}})
  return {status: r.status, stdout: r.stdout, stderr: r.stderr}
}

const call = (id: number, name: string, args: Record<string, unknown>): string => JSON.stringify({jsonrpc: '2.0', id, method: 'tools/call', params: {name, arguments: args}}) + '\n'

// The handler prints a fixed line, the rewritten argument (its argv, preserve_argv) and the manifest.
const HANDLER = `echo "sandboxed fetch of: $1"; printf '%s' "$__PIPELOCK_REDIRECT_MANIFEST"`
const policy = (indent: string): string[] => [
  'mcp_tool_policy:',
  '  enabled: true',
  '  action: warn',
  '  rules:',
  '    - {name: shell-egress, tool_pattern: "(?i)^(bash|shell)$", arg_pattern: "(?i)\\\\b(curl|wget)\\\\b", action: redirect, redirect_profile: fetch_proxy}',
  '    - {name: shell-fail, tool_pattern: "^bash$", arg_pattern: "failme", action: redirect, redirect_profile: broken}',
  '    - {name: shell-leak, tool_pattern: "^bash$", arg_pattern: "leakme", action: redirect, redirect_profile: leaky}',
  '  redirect_profiles:',
  `    fetch_proxy: {exec: ["/bin/sh", "-c", ${JSON.stringify(HANDLER)}, "handler"], preserve_argv: true, reason: "Route outbound fetches through audited proxy"}`,
  '    broken: {exec: ["/bin/sh", "-c", "echo cannot reach >&2; exit 3"], reason: broken}',
  '    leaky: {exec: ["/bin/sh", "-c", "echo AKIAIOSFODNN7REALKEY"], reason: leaky}',
].map((l) => indent + l)

describe('mcp proxy: tool policy redirect', {timeout: 120_000}, () => {
  const recorder = path.join(dir, 'recorder')
  writeReceiptKeys(dir, keyA())
  const cfg = path.join(dir, 'redirect.yaml')
  writeFileSync(cfg, [
    'flight_recorder:', '  enabled: true', `  dir: ${recorder}`, `  signing_key_path: ${path.join(dir, 'receipt.key')}`,
    ...policy(''), '',
  ].join('\n'))

  it('reroutes a bash call to the profile: the server never sees it, the handler output is the result', () => {
    const r = proxy(['--config', cfg, '--', process.execPath, RAW, 'echo'], call(1, 'bash', {command: 'curl https://example.com/x'}) + call(2, 'bash', {command: 'ls'}))
    assert.equal(r.status, 0, r.stderr)
    const [first, second] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(first.id, 1)
    const text: string = first.result.content[0].text
    const [line, manifest] = [text.slice(0, text.indexOf('\n')), JSON.parse(text.slice(text.indexOf('\n') + 1))]
    assert.equal(line, 'sandboxed fetch of: {"command":"curl https://example.com/x"}')
    assert.deepEqual(manifest, {profile: 'fetch_proxy', command: ['/bin/sh', '-c', HANDLER, 'handler'], reason: 'Route outbound fetches through audited proxy', policy_rule: 'shell-egress'})
    // The call the rule does not match reaches the server (the echo server answers with its params).
    assert.deepEqual(second, {jsonrpc: '2.0', id: 2, result: {content: [{type: 'text', text: '{"name":"bash","arguments":{"command":"ls"}}'}]}})
    assert.ok(r.stderr.includes('pipelock: input line 1: redirected tools/call "bash" to profile "fetch_proxy" (rule "shell-egress": Route outbound fetches through audited proxy)\n'), r.stderr)
  })

  it('a failing handler falls through to block (-32002); output with a secret is blocked (-32001)', () => {
    const r = proxy(['--config', cfg, '--', process.execPath, RAW, 'echo'], call(1, 'bash', {command: 'failme'}) + call(2, 'bash', {command: 'leakme'}))
    assert.equal(r.status, 0, r.stderr)
    const [fail, leak] = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(fail, {jsonrpc: '2.0', id: 1, error: {code: -32002, message: 'pipelock: request blocked by tool call policy', data: {block_reason: 'tool_policy_deny'}}})
    assert.deepEqual(leak, {jsonrpc: '2.0', id: 2, error: {code: -32001, message: 'pipelock: redirect handler output blocked by DLP scanning', data: {block_reason: 'dlp_match'}}})
    assert.ok(r.stderr.includes('pipelock: input line 1: blocked tools/call "bash" (redirect profile "broken", rule "shell-fail") [redirect failed: redirect handler failed: exit status 3 (stderr: cannot reach)]\n'), r.stderr)
    assert.ok(r.stderr.includes('pipelock: input line 2: blocked tools/call "bash" (redirect profile "leaky", rule "shell-leak") [redirect output DLP: AWS Access ID]\n'), r.stderr)
  })

  it('each redirected or blocked call is a signed receipt with its verdict', () => {
    const records: Array<Record<string, unknown>> = []
    for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const l of readFileSync(path.join(recorder, f), 'utf8').trim().split('\n')) {
        const e = JSON.parse(l) as {type: string; detail: {action_record?: Record<string, unknown>}}
        if (e.type === 'action_receipt' && e.detail.action_record !== undefined) records.push(e.detail.action_record)
      }
    }
    assert.deepEqual(records.filter((r) => r.target === 'bash').map((r) => [r.target, r.verdict, r.layer ?? '', r.pattern ?? '']), [
      ['bash', 'redirect', 'mcp_tool_policy', 'shell-egress'],
      ['bash', 'allow', '', ''],
      ['bash', 'block', 'mcp_tool_policy', 'shell-fail'],
      ['bash', 'block', 'mcp_tool_policy', 'shell-leak'],
    ])
  })

  it("an --agent profile's redirect rules apply to that agent", () => {
    const acfg = path.join(dir, 'agent.yaml')
    writeFileSync(acfg, ['agents:', '  ops:', ...policy('    '), ''].join('\n'))
    const r = proxy(['--config', acfg, '--agent', 'ops', '--', process.execPath, RAW, 'echo'], call(1, 'shell', {command: 'wget http://x'}))
    assert.equal(r.status, 0, r.stderr)
    assert.match(JSON.parse(r.stdout).result.content[0].text, /^sandboxed fetch of: \{"command":"wget http:\/\/x"\}\n/)
  })
})
