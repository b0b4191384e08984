/**
 * `flight_recorder.signing_key_path` is read when `pipelock run` opens the recorder: a key it
 * cannot load refuses the start. `pipelock check` used to pass such a config ("Config validation:
 * OK", exit 0), so a pre-flight in CI said yes to a proxy that would not start. Both now load the
 * key with the same function, and the refusal says what is wrong in words, with what to do.
 */
import assert from 'node:assert/strict'
import {chmodSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {test} from 'node:test'
import {runCli} from '../helpers/cli.js'
import {tempDir} from './proxy-harness.js'

const dir = tempDir('pl-recorder-key-')
const HINT = 'make one with pipelock keygen NAME and point signing_key_path at its id_ed25519 (a JSON key from pipelock signing key generate is not a recorder key)'

function config(name: string, keyPath: string): string {
  const file = path.join(dir, `${name}.yaml`)
  writeFileSync(file, `fetch_proxy:\n  listen: 127.0.0.1:0\nflight_recorder:\n  enabled: true\n  dir: ${path.join(dir, `fr-${name}`)}\n  signing_key_path: ${keyPath}\n`)
  return file
}

test('a recorder key pipelock run cannot load: check refuses it too, with the same reason', () => {
  const ks = path.join(dir, 'ks')
  assert.equal(runCli(['keygen', 'rec', '--keystore', ks]).status, 0)
  const good = path.join(ks, 'agents', 'rec', 'id_ed25519')
  const missing = path.join(dir, 'nope.key')
  const wide = path.join(dir, 'wide.key')
  writeFileSync(wide, '')
  chmodSync(wide, 0o644)
  const json = path.join(dir, 'deploy.json')
  assert.equal(runCli(['signing', 'key', 'generate', '--purpose', 'receipt-signing', '--out', json]).status, 0)

  const cases: Array<[string, string, string]> = [
    ['missing', missing, `flight_recorder.signing_key_path: ${missing}: no such file or directory`],
    ['wide', wide, `flight_recorder.signing_key_path: private key ${wide} has permissions 0644, want 0600 or 0640 (run: chmod 640 ${wide})`],
    ['json', json, `flight_recorder.signing_key_path: ${json}: invalid private key format (expected pipelock-ed25519-private-v1 header)`],
    // the public half (0644 by design) is named as such, not sent to chmod
    ['pub', `${good}.pub`, `flight_recorder.signing_key_path: ${good}.pub is a public key (pipelock-ed25519-public-v1), not a private key: pass the private key file (keygen writes it beside the .pub, as id_ed25519)`],
  ]
  for (const [name, key, reason] of cases) {
    const file = config(name, key)
    const check = runCli(['check', '--config', file])
    assert.equal(check.status, 1, `${name}: ${check.stdout}${check.stderr}`)
    assert.match(check.stdout, /\n {2}Refused: {8}a setting inside an enabled section \(pipelock run refuses to start; the reason is on stderr\)\n/)
    assert.equal(check.stderr, `${reason}\n`, name)
    const run = runCli(['run', '--config', file])
    assert.equal(run.status, 1, `${name}: ${run.stderr}`)
    assert.ok(run.stderr.startsWith(reason), `${name}: ${run.stderr}`)
    if (name !== 'wide') assert.ok(run.stderr.trimEnd().endsWith(`; hint: ${HINT}`), `${name}: ${run.stderr}`)
    assert.doesNotMatch(run.stderr, /ENOENT/)
  }

  const ok = runCli(['check', '--config', config('good', good)])
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, /\n {2}Refused: {8}\(none\)\n/)
})
