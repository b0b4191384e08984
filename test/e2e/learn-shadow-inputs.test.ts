import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {deterministicKey} from '../../src/plugins/learn/index.js'
import {fingerprint, keyPairFromSeed, sha256} from '../../src/plugins/signing/index.js'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// What learn shadow, ratify and diff say when their inputs are not what they need: the config
// they read when --config is not given, capture that belongs to other agents, a receipt key that
// is missing (refused before any report is written), a key that did not sign the contract, and
// the markdown report given where the JSON one belongs.

const RATIFY_PUB = deterministicKey('ratifyCompile').keyPair.publicKey.toString('hex')
const GOLDEN_PUB = keyPairFromSeed(sha256('pipelock-golden-deterministic-signer')).publicKey
const SESSIONS = repoPath('goldens', 'multi-session', 'input')

function ratified(dir: string): string {
  const candidate = path.join(dir, 'candidate.yaml')
  writeFileSync(candidate, readFileSync(repoPath('goldens', 'multi-session', 'contract.yaml')))
  const out = path.join(dir, 'ratified.yaml')
  const r = runCli(['learn', 'ratify', '--candidate', candidate, '--contract-key', GOLDEN_PUB.toString('hex'), '--accept-low-confidence', '--deterministic', '--out', out])
  assert.equal(r.status, 0, r.stderr)
  return out
}

test('learn shadow: a missing receipt key is refused before the replay, with no report written', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-inputs-'))
  try {
    const contract = ratified(dir)
    const out = path.join(dir, 'shadow.md')
    const outJson = path.join(dir, 'shadow.json')
    mkdirSync(path.join(dir, 'ks'))
    const r = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', SESSIONS, '--recorder-dir', path.join(dir, 'rec'), '--keystore', path.join(dir, 'ks'), '--receipt-key-agent', 'nobody', '--out', out, '--out-json', outJson])
    assert.equal(r.status, 1)
    assert.match(r.stderr, /^load receipt signing key for "nobody": .*\[FILE_NOT_FOUND\]/)
    assert.equal(existsSync(out), false)
    assert.equal(existsSync(outJson), false)
    assert.equal(existsSync(path.join(dir, 'rec')), false)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn shadow: no --sessions nor --agent; the config from $PIPELOCK_CONFIG; an agent with no capture names the agents there are', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-inputs-'))
  try {
    const contract = ratified(dir)
    const none = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB])
    assert.equal(none.status, 1)
    assert.equal(
      none.stderr,
      "learn shadow: no capture to replay: give --sessions (a capture sessions directory or one capture .jsonl file), or --agent NAME to replay that agent's sessions under learn.capture_dir of the config [SHADOW_INPUT_INVALID]\n",
    )
    const root = path.join(dir, 'capture')
    for (const s of ['10.0.0.1', '10.0.0.2']) cpSync(path.join(SESSIONS, `shop-agent|${s}`), path.join(root, `shop-agent|${s}`), {recursive: true})
    const config = path.join(dir, 'pipelock.yaml')
    writeFileSync(config, `learn:\n  capture_dir: ${root}\n`)
    const env = {PIPELOCK_CONFIG: config}
    const other = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--agent', 'wiki-agent'], {env})
    assert.equal(other.status, 1)
    assert.equal(
      other.stderr,
      `learn shadow: config ${config} (from $PIPELOCK_CONFIG; --config names another)\n` +
        `learn shadow: no capture session of agent "wiki-agent" under ${root} [CAPTURE_NO_INPUT]; hint: sessions there belong to: shop-agent\n`,
    )
    const ok = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--agent', 'shop-agent', '--duration', '876000h', '--out', path.join(dir, 'shadow.md')], {env})
    assert.equal(ok.status, 0, ok.stderr)
    assert.ok(ok.stderr.startsWith(`learn shadow: config ${config} (from $PIPELOCK_CONFIG; --config names another)\n`), ok.stderr)
    assert.ok(readFileSync(path.join(dir, 'shadow.md'), 'utf8').length > 0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('a contract key that did not sign the contract: the hint names the key checked and the signer the contract names', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-inputs-'))
  try {
    const contract = ratified(dir)
    const wrong = GOLDEN_PUB.toString('hex') // the compile key; ratify re-signed with another
    const s = runCli(['learn', 'shadow', '--contract', contract, '--contract-key', wrong, '--sessions', SESSIONS])
    assert.equal(s.status, 1)
    const signer = /signer_key_id: "?([^"\n]+)"?/.exec(readFileSync(contract, 'utf8'))![1]!
    assert.equal(
      s.stderr,
      `learn shadow: verify contract: signature does not verify [CONTRACT_SIGNATURE_INVALID]; hint: checked with --contract-key given as hex (${fingerprint(GOLDEN_PUB)}): it is not the key that signed this contract (signer_key_id "${signer}"; pass that key's public key), or the contract was altered and re-hashed after signing (recompile it)\n`,
    )
    const r = runCli(['learn', 'ratify', '--candidate', contract, '--contract-key', wrong, '--deterministic', '--out', path.join(dir, 'again.yaml')])
    assert.equal(r.status, 1)
    assert.equal(
      r.stderr,
      `learn ratify: verify candidate: signature does not verify for signer_key_id "${signer}" [CONTRACT_SIGNATURE_INVALID]; hint: checked with --contract-key given as hex (${fingerprint(GOLDEN_PUB)}): it is not the key that signed this contract (signer_key_id "${signer}"; pass that key's public key), or the contract was altered and re-hashed after signing (recompile it)\n`,
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn diff given the markdown report says which report it reads; learn compile --input given a directory says to give a glob', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-inputs-'))
  try {
    const contract = ratified(dir)
    const md = path.join(dir, 'shadow.md')
    const json = path.join(dir, 'shadow.json')
    assert.equal(runCli(['learn', 'shadow', '--contract', contract, '--contract-key', RATIFY_PUB, '--sessions', SESSIONS, '--duration', '876000h', '--out', md, '--out-json', json]).status, 0)
    const d = runCli(['learn', 'diff', md, json])
    assert.equal(d.status, 1)
    assert.match(d.stderr, /^.*shadow\.md: learn diff: decode report: .* \[SHADOW_INPUT_INVALID\]; hint: this looks like the markdown report \(learn shadow --out\); learn diff reads the JSON reports learn shadow --out-json writes\n$/)
    const c = runCli(['learn', 'compile', '--agent', 'shop-agent', '--input', SESSIONS, '--deterministic', '--output', path.join(dir, 'c.yaml')])
    assert.equal(c.status, 1)
    assert.equal(
      c.stderr,
      `learn compile: --input ${SESSIONS} is a directory [CAPTURE_NO_INPUT]; hint: give the capture files, as a quoted glob: --input "${path.join(SESSIONS, '*', '*.jsonl')}" (a capture directory holds one directory per session), or --agent alone to read learn.capture_dir\n`,
    )
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
