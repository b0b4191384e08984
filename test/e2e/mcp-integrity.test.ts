import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {appendFileSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, it} from 'node:test'
import {repoPath} from '../helpers/vectors.js'

// mcp_binary_integrity and `pipelock mcp integrity manifest …` (mcp.md §12, §18.2 case 13),
// through the built CLI: generate → verify; a modified script → `script hash mismatch` (block: no
// spawn, exit 1; warn: warning and spawn); sign → verify-signature; require_signature with a
// tampered manifest is fatal even with action warn.

const BIN = repoPath('bin/run.js')
const dir = realpathSync(mkdtempSync(path.join(tmpdir(), 'pl-integrity-')))
const ks = path.join(dir, 'ks')
const script = path.join(dir, 'server.mjs')
const manifest = path.join(dir, 'manifest.json')
const node = realpathSync(process.execPath)
const env = {...process.env, HOME: dir, PIPELOCK_HOME: path.join(dir, 'home'), NO_COLOR: '1'}

function run(args: string[], input = ''): {code: number | null; stdout: string; stderr: string} {
  const r = spawnSync(process.execPath, [BIN, ...args], {encoding: 'utf8', env, input, timeout: 60_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function proxyConfig(name: string, extra: string[]): string {
  const f = path.join(dir, `${name}.yaml`)
  writeFileSync(f, ['mcp_binary_integrity:', '  enabled: true', `  manifest_path: ${manifest}`, ...extra].join('\n') + '\n')
  return f
}

describe('MCP binary integrity', {timeout: 120_000}, () => {
  it('generate pins the interpreter and the script; verify passes; --json prints the report', () => {
    copyFileSync(repoPath('test/mcp/fixtures/raw-server.mjs'), script)
    const g = run(['mcp', 'integrity', 'manifest', 'generate', '--output', manifest, '--', process.execPath, script])
    assert.equal(g.code, 0, g.stderr)
    assert.equal(g.stdout, `Manifest written: ${manifest} (2 entries)\n${[node, script].sort().map((p) => `  ${p}\n`).join('')}`)
    assert.equal(statSync(manifest).mode & 0o777, 0o600)
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as {version: number; entries: Record<string, string>}
    assert.equal(m.version, 1)
    assert.deepEqual(Object.keys(m.entries), [node, script].sort())
    assert.match(readFileSync(manifest, 'utf8'), /^\{\n {2}"version": 1,\n {2}"entries": \{\n {4}"/)
    const again = run(['mcp', 'integrity', 'manifest', 'generate', '--output', manifest, '--', process.execPath, script])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /manifest already exists at .* \(use --merge to update it\)/)
    const v = run(['mcp', 'integrity', 'manifest', 'verify', '--manifest', manifest, '--', process.execPath, script])
    assert.equal(v.code, 0, v.stderr)
    assert.equal(v.stdout, `MCP binary integrity verified: ${process.execPath} ${script}\n`)
    const j = JSON.parse(run(['mcp', 'integrity', 'manifest', 'verify', '--json', '--manifest', manifest, '--', process.execPath, script]).stdout) as Record<string, unknown>
    assert.deepEqual([j.ok, j.binary, j.script, j.reasons], [true, node, script, []])
  })

  it('--merge reports what the file holds and what this run added or updated', () => {
    const merged = path.join(dir, 'merged.json')
    const other = path.join(dir, 'other.mjs')
    copyFileSync(repoPath('test/mcp/fixtures/raw-server.mjs'), other)
    assert.equal(run(['mcp', 'integrity', 'manifest', 'generate', '--output', merged, '--', process.execPath, script]).code, 0)
    const g = run(['mcp', 'integrity', 'manifest', 'generate', '--output', merged, '--merge', '--', process.execPath, other])
    assert.equal(g.code, 0, g.stderr)
    assert.equal(g.stdout, `Manifest written: ${merged} (3 entries: 1 added, 1 updated)\n${[node, other].sort().map((p) => `  ${p}\n`).join('')}`)
    assert.equal(Object.keys((JSON.parse(readFileSync(merged, 'utf8')) as {entries: object}).entries).length, 3)
    const j = JSON.parse(run(['mcp', 'integrity', 'manifest', 'generate', '--json', '--output', merged, '--merge', '--', process.execPath, other]).stdout) as Record<string, unknown>
    assert.deepEqual([j.entries, j.total_entries], [[node, other].sort(), 3])
  })

  it('--output in a directory that does not exist says so and writes nothing', () => {
    const missing = path.join(dir, 'no-such-dir', 'm.json')
    const g = run(['mcp', 'integrity', 'manifest', 'generate', '--output', missing, '--', process.execPath, script])
    assert.equal(g.code, 1)
    assert.equal(g.stderr, `writing ${missing}: directory ${path.dirname(missing)} does not exist; nothing was written [WRITE_FAILED]\n`)
  })

  it('mcp proxy spawns a verified server', () => {
    const r = run(['mcp', 'proxy', '--config', proxyConfig('ok', ['  action: block']), '--', process.execPath, script], '{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    assert.match(r.stdout, /"id":1/)
  })

  it('a modified script: verify fails; block refuses to spawn (exit 1); warn logs and spawns', () => {
    appendFileSync(script, '\n// tampered\n')
    const v = run(['mcp', 'integrity', 'manifest', 'verify', '--manifest', manifest, '--', process.execPath, script])
    assert.equal(v.code, 1)
    assert.match(v.stdout, new RegExp(`^MCP binary integrity check failed:\\n  script hash mismatch for ${script.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: expected [0-9a-f]{64}, got [0-9a-f]{64}\\n$`))
    const blocked = run(['mcp', 'proxy', '--config', proxyConfig('block', ['  action: block']), '--', process.execPath, script], '{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    assert.equal(blocked.code, 1)
    assert.match(blocked.stderr, /binary integrity check failed: script hash mismatch for /)
    assert.equal(blocked.stdout, '')
    const warned = run(['mcp', 'proxy', '--config', proxyConfig('warn', ['  action: warn']), '--', process.execPath, script], '{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    assert.match(warned.stderr, /pipelock: binary integrity warning: script hash mismatch for /)
    assert.match(warned.stdout, /"id":1/)
  })

  it('sign and verify-signature; require_signature with a tampered manifest is fatal even with action warn', () => {
    assert.equal(run(['keygen', 'ops-alice', '--keystore', ks]).code, 0)
    const s = run(['mcp', 'integrity', 'manifest', 'sign', '--manifest', manifest, '--signer', 'ops-alice', '--keystore', ks])
    assert.equal(s.code, 0, s.stderr)
    assert.equal(s.stdout, `MCP integrity manifest signed: ${manifest}\nSignature: ${manifest}.sig\n`)
    assert.match(readFileSync(`${manifest}.sig`, 'utf8'), /^[A-Za-z0-9+/]{86}==\n$/)
    const ok = run(['mcp', 'integrity', 'manifest', 'verify-signature', '--manifest', manifest, '--signer', 'ops-alice', '--keystore', ks])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, `MCP integrity manifest signature verified: ${manifest}\n`)
    const noSigner = run(['mcp', 'integrity', 'manifest', 'sign', '--manifest', manifest, '--keystore', ks])
    assert.equal(noSigner.code, 2)
    assert.match(noSigner.stderr, /signer name required: use --signer or set PIPELOCK_AGENT/)
    appendFileSync(manifest, ' ')
    const bad = run(['mcp', 'integrity', 'manifest', 'verify-signature', '--manifest', manifest, '--signer', 'ops-alice', '--keystore', ks])
    assert.equal(bad.code, 1)
    assert.equal(bad.stdout, `MCP integrity manifest signature failed: signature verification failed\n`)
    // The reference's line says only that it failed: stderr names the key it was checked against.
    assert.match(bad.stderr, /^hint: the signature does not verify under the key of signer "ops-alice" \(sha256:[0-9a-f]{64}\): the manifest was signed with another key \(check --signer or \$PIPELOCK_AGENT\) or changed after signing\n$/)
    const missing = run(['mcp', 'integrity', 'manifest', 'verify', '--manifest', path.join(dir, 'nope.json'), '--', process.execPath])
    assert.equal(missing.code, 1)
    assert.equal(missing.stderr, `reading manifest ${path.join(dir, 'nope.json')}: no such file or directory [FILE_NOT_FOUND]; hint: write one with: pipelock mcp integrity manifest generate --output FILE -- COMMAND\n`)
    // A signer with no key anywhere: both places looked at are named.
    const none = run(['mcp', 'integrity', 'manifest', 'verify-signature', '--manifest', manifest, '--signer', 'nobody', '--keystore', ks])
    assert.equal(none.code, 1)
    assert.equal(none.stdout, `MCP integrity manifest signature failed: loading trusted signer "nobody": no public key at ${path.join(ks, 'agents', 'nobody', 'id_ed25519.pub')} nor ${path.join(ks, 'trusted_keys', 'nobody.pub')} (pipelock keygen nobody, or pipelock trust nobody <key file>)\n`)
    const cfg = proxyConfig('sig', ['  action: warn', '  require_signature: true', '  trusted_signer: ops-alice', `  keystore: ${ks}`])
    const r = run(['mcp', 'proxy', '--config', cfg, '--', process.execPath, script], '{"jsonrpc":"2.0","id":1,"method":"ping"}\n')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /binary integrity: loading manifest: signature verification failed/)
  })

  it('config validation: require_signature needs a trusted signer', () => {
    const r = run(['mcp', 'proxy', '--config', proxyConfig('invalid', ['  require_signature: true']), '--', process.execPath, script])
    assert.equal(r.code, 2, 'a config error')
    assert.match(r.stderr, /mcp_binary_integrity\.trusted_signer is required when require_signature is true/)
  })
})
