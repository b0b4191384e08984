/**
 * Issue 34: a wrong root-key file (an agent key from keygen, or text that is not JSON) names the
 * file and what was expected, instead of the JSON parser's "invalid character 'p'".
 */
import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'

test('signing roster build --root with a keygen agent key, or with text: the file and the expected format', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pl-root-key-'))
  const agentKey = path.join(dir, 'id_ed25519')
  writeFileSync(agentKey, 'pipelock-ed25519-private-v1\n' + '00'.repeat(64) + '\n', {mode: 0o600})
  const build = (root: string) => runCli(['signing', 'roster', 'build', '--root', root, '--include', `id=r,key=${agentKey},purpose=receipt-signing`, '--out', path.join(dir, 'roster.json')])
  const r = build(agentKey)
  assert.equal(r.status, 1)
  assert.equal(r.stderr, `load root key: key file "${agentKey}" is a pipelock-ed25519-private-v1 key (the format of keygen's agent keys), not a JSON deployment key file with purpose roster-root (create one with pipelock signing key generate --purpose roster-root --out FILE) [ROSTER_BUILD_REFUSED]\n`)
  assert.doesNotMatch(r.stderr, /invalid character/)
  const text = path.join(dir, 'notes.txt')
  writeFileSync(text, 'root key: see vault\n', {mode: 0o600})
  const t = build(text)
  assert.equal(t.status, 1)
  assert.match(t.stderr, new RegExp(`^load root key: key file "${text.replace(/[.]/g, '\\.')}" is not a JSON deployment key file with purpose roster-root \\(create one with pipelock signing key generate --purpose roster-root --out FILE\\): `))
})
