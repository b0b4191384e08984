import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {decodeEnvelope} from '../../../src/plugins/contracts/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {applyDecisions, deterministicKey, loadShadowCandidate, loadShadowCandidateInWorker, loadsContractHere, resignContract, SHADOW_THREAD_LOAD_MIN_BYTES, type ShadowContract} from '../../../src/plugins/learn/index.js'
import {JsonNumber, type JsonObject, type JsonValue} from '../../../src/plugins/canonical/index.js'
import {GOLDEN_CORPORA} from '../../../bench/corpus-goldens.js'
import {repoPath} from '../../helpers/vectors.js'
import {ratifiedGoldenBody} from '../../helpers/golden-shadow.js'

// Issue 18: `learn shadow` loads a signed contract on a worker thread while the replay starts
// reading. Differential against the load on the calling thread (`loadShadowCandidate`, the
// oracle): the same compact contract (deep-equal after the structured clone) for every golden
// candidate ratified two ways, and the same error (class, code, exit code, message, hint,
// location) for every way a load fails.

const KEY = Buffer.from(deterministicKey('ratifyCompile').keyPair.publicKey).toString('hex')

type Outcome = {contract: ShadowContract} | {error: {name: string; code: string; exitCode: number; message: string; hint?: string; location?: unknown}}

async function outcome(f: () => ShadowContract | Promise<ShadowContract>): Promise<Outcome> {
  try {
    return {contract: await f()}
  } catch (e) {
    assert.ok(e instanceof PipelockError, `a PipelockError: ${String(e)}`)
    return {error: {name: e.name, code: e.code, exitCode: e.exitCode, message: e.message, ...(e.hint === undefined ? {} : {hint: e.hint}), ...(e.location === undefined ? {} : {location: e.location})}}
  }
}

test('the contract worker loads every golden contract (two ratifications each) into the compact form the calling thread builds', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-contract-worker-'))
  let fallbacks = 0
  try {
    for (const corpus of GOLDEN_CORPORA) {
      for (const mode of ['all', 'strict'] as const) {
        const file = path.join(dir, `${corpus.name}-${mode}.yaml`)
        writeFileSync(file, ratifiedGoldenBody(corpus.name, mode).yaml)
        const req = {contract: file, contractKey: KEY, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}}
        const want = await outcome(() => loadShadowCandidate(req))
        assert.ok('contract' in want, `${corpus.name} ${mode}: loads`)
        const got = await outcome(() =>
          loadShadowCandidateInWorker(req, () => {
            fallbacks++
            return loadShadowCandidate(req)
          }),
        )
        assert.deepEqual(got, want, `${corpus.name} ${mode}`)
      }
    }
    // The golden contracts hold no MCP argument matcher with a number: none needs the fallback.
    assert.equal(fallbacks, 0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('the contract worker fails exactly as the calling thread does (missing file, YAML and validation errors, key and signature errors)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-contract-worker-'))
  try {
    const src = repoPath('goldens', GOLDEN_CORPORA[0]?.name ?? '', 'contract.yaml')
    const env = decodeEnvelope(readFileSync(src, 'utf8'), src)
    const good = resignContract(env.body, deterministicKey('ratifyCompile'), 'learn ratify').yaml
    const cases: [string, string | undefined, Partial<{contractKey: string}>][] = [
      ['missing-file', undefined, {contractKey: KEY}],
      ['bad-state', good.replace(/lifecycle_state: \w+/, 'lifecycle_state: bogus'), {contractKey: KEY}],
      ['unknown-field', good.replace(/( +)rule_id: /, '$1surprise: 1\n$1rule_id: '), {contractKey: KEY}],
      ['yaml-syntax', good.replace(/( +)rule_id: /, '$1rule_id: [unclosed\n$1rule_id: '), {contractKey: KEY}],
      ['duplicate-key', good.replace(/( +)(rule_id: .*)/, '$1$2\n$1$2'), {contractKey: KEY}],
      ['no-key', good, {}],
      ['bad-key', good, {contractKey: 'zz'}],
      ['bad-signature', good.replace(/signature: ed25519:[0-9a-f]{4}/, 'signature: ed25519:0000'), {contractKey: KEY}],
      ['short-signature', good.replace(/signature: ed25519:[0-9a-f]+/, 'signature: ed25519:00'), {contractKey: KEY}],
      ['other-key', good, {contractKey: '3e60a846b80a5152a2e32fac4cadb3e9a661eee41558a8c84f5d00a827671380'}],
      ['key-purpose', good.replace(/key_purpose: .*/, 'key_purpose: other'), {contractKey: KEY}],
    ]
    for (const [name, text, opts] of cases) {
      const file = path.join(dir, `${name}.yaml`)
      if (text !== undefined) writeFileSync(file, text)
      const req = {contract: file, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}, ...opts}
      const want = await outcome(() => loadShadowCandidate(req))
      assert.ok('error' in want, `${name}: fails`)
      assert.deepEqual(await outcome(() => loadShadowCandidateInWorker(req, () => loadShadowCandidate(req))), want, name)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('the contract worker leaves a form a structured clone would change to the calling thread (an MCP argument matcher on a number)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-contract-worker-'))
  try {
    const src = repoPath('goldens', 'mcp-tools', 'contract.yaml')
    const env = decodeEnvelope(readFileSync(src, 'utf8'), src)
    const rules = env.body.get('rules') as JsonObject[]
    const applied = applyDecisions(env.body, rules.map(() => 'enforce'))
    const out = (applied.body.get('rules') as JsonObject[]).map((r) => new Map(r))
    const i = out.findIndex((r) => r.get('rule_kind') === 'mcp_tool_call')
    assert.ok(i >= 0, 'an MCP rule')
    const rule = out[i] as JsonObject
    // The evaluator keeps the number as a JsonNumber instance: a clone would make it a plain object.
    rule.set('selector', new Map(rule.get('selector') as JsonObject).set('args', [new Map<string, JsonValue>([['key', 'n'], ['value', new JsonNumber('3')]])]))
    const file = path.join(dir, 'mcp.yaml')
    writeFileSync(file, resignContract(new Map(applied.body).set('rules', out), deterministicKey('ratifyCompile'), 'learn ratify').yaml)
    const req = {contract: file, contractKey: KEY, allowUnsignedForDiagnostics: false, keystore: dir, warn: () => {}}
    const want = await outcome(() => loadShadowCandidate(req))
    assert.ok('contract' in want, JSON.stringify(want))
    let fallbacks = 0
    const got = await outcome(() =>
      loadShadowCandidateInWorker(req, () => {
        fallbacks++
        return loadShadowCandidate(req)
      }),
    )
    assert.equal(fallbacks, 1, 'loaded on the calling thread')
    assert.deepEqual(got, want)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn shadow loads a contract under 1 MiB, and the diagnostic load, on its own thread; a larger or unreadable one on the worker', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-shadow-contract-worker-'))
  try {
    const small = path.join(dir, 'small.yaml')
    const large = path.join(dir, 'large.yaml')
    writeFileSync(small, Buffer.alloc(SHADOW_THREAD_LOAD_MIN_BYTES - 1, 0x20))
    writeFileSync(large, Buffer.alloc(SHADOW_THREAD_LOAD_MIN_BYTES, 0x20))
    assert.equal(SHADOW_THREAD_LOAD_MIN_BYTES, 1024 * 1024)
    assert.equal(loadsContractHere({contract: small, allowUnsignedForDiagnostics: false}), true)
    assert.equal(loadsContractHere({contract: large, allowUnsignedForDiagnostics: false}), false)
    assert.equal(loadsContractHere({contract: path.join(dir, 'missing.yaml'), allowUnsignedForDiagnostics: false}), false)
    assert.equal(loadsContractHere({contract: large, allowUnsignedForDiagnostics: true}), true)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
