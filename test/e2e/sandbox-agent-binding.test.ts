/**
 * Which agent profile a sandboxed process runs under. Every request of the sandboxed process
 * reaches the embedded proxy from the bridge on 127.0.0.1, so a client address says nothing
 * about which agent it is: a `source_cidrs` range holding 127.0.0.1 (a profile meant for a
 * trusted local agent, here one that only records) must not bind the sandboxed process to that
 * profile, and a profile bound to its own address or listener must not be claimable by name from
 * inside the sandbox either (its listener is not opened there). Real bubblewrap, real curl inside.
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {runCliAsync} from '../helpers/fake-admin-api.js'
import {useSandboxHost} from './sandbox-rig.js'

/** An AWS access key id shape: the default DLP patterns block it in a URL. */
const AWS_KEY = 'AKIA' + 'IOSFODNN7EXAMPLE'

const host = useSandboxHost({
  key: 'fake-key-for-the-binding-test\n',
  originBody: 'origin\n',
  config: () => [
    'ssrf:',
    '  ip_allowlist: ["127.0.0.1/32"]',
    'agents:',
    // A profile for a trusted local agent of a `pipelock run` sharing this config: it records only.
    '  trusted:',
    '    source_cidrs: ["127.0.0.0/8"]',
    '    enforce: false',
    '  ops:',
    '    listeners: ["127.0.0.1:47391"]',
    '    enforce: false',
  ].join('\n') + '\n',
})

function auditEvents(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
}

describe('pipelock sandbox: agent identity', () => {
  test('a source_cidrs range holding loopback does not bind the sandboxed process; bound profiles cannot be claimed by name; one line says so', async () => {
    host.hits.length = 0
    const url = `http://127.0.0.1:${host.originPort}/leak?key=${AWS_KEY}`
    const curl = (header: string): string => `curl -s -o /dev/null -w '%{http_code}\\n' ${header} "${url}"`
    const r = await host.sandbox(['--', 'sh', '-c', [curl(''), curl("-H 'X-Pipelock-Agent: trusted'"), curl("-H 'X-Pipelock-Agent: ops'")].join('; ')])
    assert.equal(r.status, 0, r.stderr)
    // Each is refused: the base policy blocks the key, and a bound profile's name is a refused claim.
    assert.equal(r.stdout, '403\n403\n403\n', r.stderr)
    assert.deepEqual(host.hits, [])
    const blocked = auditEvents(r.stderr).filter((e) => e.event === 'blocked')
    assert.equal(blocked.length, 3, r.stderr)
    assert.equal(blocked[0]!.block_reason, 'dlp_match')
    assert.notEqual(blocked[0]!.agent, 'trusted')
    assert.match(String(blocked[1]!.reason), /agent "trusted" is bound to its own listener or source CIDR/)
    assert.match(String(blocked[2]!.reason), /agent "ops" is bound to its own listener or source CIDR/)
    const lines = r.stderr.split('\n').filter((l) => l.includes('source_cidrs'))
    assert.deepEqual(lines, [
      `pipelock: agents.trusted.source_cidrs "127.0.0.0/8" is not applied by the sandbox's proxy: every request of the sandboxed process reaches it from the bridge on 127.0.0.1, so the address cannot tell which agent it is; the sandboxed process is not bound to that profile, and a request naming one is refused`,
    ])
    // The listener of a profile is not opened by the sandbox's proxy.
    assert.doesNotMatch(r.stderr, /listening on 127\.0\.0\.1:47391/)
  })

  test('mcp proxy --sandbox --agent: the server\'s HTTP egress is that agent\'s in the embedded proxy, whatever it declares', async () => {
    host.hits.length = 0
    const url = `http://127.0.0.1:${host.originPort}/mcp-egress?key=${AWS_KEY}`
    // The server is a shell: its stdout is the MCP transport, so curl reports on stderr.
    const script = `curl -s -o /dev/null -w 'code=%{http_code}\\n' -H 'X-Pipelock-Agent: someone-else' "${url}" >&2`
    const r = await runCliAsync(['mcp', 'proxy', '--sandbox', '--agent', 'ops', '--config', host.cfg, '--workspace', host.ws, '--', 'sh', '-c', script], {env: host.env()})
    assert.equal(r.status, 0, r.stderr)
    // ops records only (enforce: false): its request goes through, as that agent's.
    assert.ok(r.stderr.split('\n').includes('code=200'), r.stderr)
    assert.deepEqual(host.hits, [`/mcp-egress?key=${AWS_KEY}`])
    // The URL carries the key: the audit log shows it redacted, so the request is found by its origin.
    const events = auditEvents(r.stderr).filter((e) => typeof e.url === 'string' && String(e.url).startsWith(`http://127.0.0.1:${host.originPort}/`))
    assert.ok(events.length > 0, r.stderr)
    for (const e of events) assert.equal(e.agent, 'ops', JSON.stringify(e))
  })
})
