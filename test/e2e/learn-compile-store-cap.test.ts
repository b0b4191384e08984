import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fleetShape, generateCorpus} from '../../bench/corpus-generator.js'
import {runCli} from '../helpers/cli.js'

// A contract over the contract store's cap (16 MiB: pipelock run decodes every active contract
// whole) can never be promoted; compile says so when it writes one, so the operator does not
// find out only at the promote, after a review and a ratification.

const CAP = 16 * 1024 * 1024

function compileCorpus(events: number, hosts: number): {stdout: string; stderr: string; status: number | null; output: string} {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-compile-cap-'))
  try {
    generateCorpus(path.join(dir, 'capture'), {seed: 5, agent: 'fleet-agent', sessions: 4, events, start: '2026-05-01T00:00:00Z', spanSeconds: 6 * 3600, shape: fleetShape(hosts)})
    writeFileSync(path.join(dir, 'cfg.yaml'), `learn:\n  capture_dir: ${path.join(dir, 'capture')}\n  inference: {floors: {min_sessions: 1, min_events: 1, min_windows: 1}}\n`)
    assert.equal(runCli(['keygen', 'ci-compile', '--keystore', path.join(dir, 'ks')]).status, 0)
    const output = path.join(dir, 'cand.yaml')
    const r = runCli(['learn', 'compile', '--agent', 'fleet-agent', '--config', path.join(dir, 'cfg.yaml'), '--keystore', path.join(dir, 'ks'), '--compile-key-agent', 'ci-compile', '--output', output])
    const size = r.status === 0 ? statSync(output).size : -1
    return {...r, output: `${output} ${size}`}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

test('learn compile warns when the contract it wrote is over the contract store cap, naming its size and rules', () => {
  const r = compileCorpus(16_000, 10_000)
  assert.equal(r.status, 0, r.stderr)
  const [file, size] = r.output.split(' ') as [string, string]
  assert.ok(Number(size) > CAP, `the corpus made only ${size} bytes`)
  const rules = /^compile: 16000 events, (\d+) rules, written to /m.exec(r.stdout)?.[1]
  assert.ok(rules !== undefined, r.stdout)
  const warnings = r.stderr.split('\n').filter((l) => l.startsWith('WARNING:'))
  assert.deepEqual(warnings, [
    `WARNING: learn compile: the contract is ${size} bytes (${rules} rules), over the ${CAP}-byte (16 MiB) cap of a contract in the contract store: learn promote will refuse it; compile from a narrower capture (one agent, a shorter window) or raise learn.inference floors so that fewer rules are emitted`,
  ])
  assert.equal(r.stdout, `compile: 16000 events, ${rules} rules, written to ${file}\n`)
})

test('a contract under the cap compiles without that warning', () => {
  const r = compileCorpus(400, 20)
  assert.equal(r.status, 0, r.stderr)
  assert.doesNotMatch(r.stderr, /WARNING/)
})
