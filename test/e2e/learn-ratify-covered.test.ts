import {test} from 'node:test'
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {CAPTURE_ONLY_DENIED, twoPathRuleCandidate} from './ratify-capture-only-fixture.js'

// Rejecting the /v1/checkout rules while enforcing the host-wide rule for the same host leaves
// checkout reachable: ratify warns, naming the rejected rule and the rule that still allows it.

test('learn ratify warns when a rejected rule is still allowed by a broader enforced rule', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-covered-'))
  try {
    const cand = path.join(dir, 'candidate.yaml')
    const c = runCli(['learn', 'compile', '--agent', 'shop-agent', '--input', 'goldens/multi-session/input/*/*.jsonl', '--deterministic', '--output', cand])
    assert.equal(c.status, 0, c.stderr)
    // one answer per rule, in file order: reject the rules whose paths name /v1/checkout
    const answers = readFileSync(cand, 'utf8')
      .split(/\n\s*rule_id: /)
      .slice(1)
      .map((block) => (/value: \/v1\/checkout\n/.test(block) ? 'r' : 'e'))
    assert.equal(answers.filter((a) => a === 'r').length, 3)
    const r = runCli(['learn', 'ratify', '--candidate', cand, '--interactive', '--deterministic', '--accept-low-confidence', '--out', path.join(dir, 'ratified.yaml')], {input: answers.join('\n') + '\n'})
    assert.equal(r.status, 0, r.stderr)
    const host = 'r-cccd1d2707b0f9d1031e (any method api.example.com any path)'
    assert.equal(
      r.stderr.split('\n').filter((l) => l.startsWith('WARNING')).join('\n'),
      [
        `WARNING: learn ratify: rejected rule r-1c6ed57b038552fa949d (any method api.example.com /v1/checkout) is still allowed by enforced rule ${host}; reject or capture-only that rule too to block it`,
        `WARNING: learn ratify: rejected rule r-c7d03758ef38891074df (POST api.example.com /v1/checkout) is still allowed by enforced rule ${host}; reject or capture-only that rule too to block it`,
        `WARNING: learn ratify: rejected rule r-6a4480e1e1470468adcf (POST api.example.com /v1/checkout when effective_action is warn) is still allowed by enforced rule ${host}; reject or capture-only that rule too to block it`,
      ].join('\n'),
    )
    // rejecting the host-wide rule too: no warning
    const all = answers.map((a, i) => (i === 0 ? 'r' : a))
    const r2 = runCli(['learn', 'ratify', '--candidate', cand, '--interactive', '--deterministic', '--accept-low-confidence', '--out', path.join(dir, 'ratified2.yaml')], {input: all.join('\n') + '\n'})
    assert.equal(r2.status, 0, r2.stderr)
    assert.doesNotMatch(r2.stderr, /WARNING/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('learn ratify (answers on stdin) warns when a capture-only rule\'s host has enforce rules: live, its requests get the default deny', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-capture-only-'))
  try {
    const cand = twoPathRuleCandidate(dir)
    const ratify = (answers: string, json: string[] = []) =>
      runCli(['learn', 'ratify', '--candidate', cand, '--interactive', '--deterministic', '--accept-low-confidence', '--out', path.join(dir, 'ratified.yaml'), ...json], {input: answers})
    const r = ratify('e\nc\n')
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('WARNING')), [`WARNING: ${CAPTURE_ONLY_DENIED}`])
    // --json: the same line in `warnings`
    const j = ratify('e\nc\n', ['--json'])
    assert.equal(j.status, 0, j.stderr)
    assert.deepEqual((JSON.parse(j.stdout) as {warnings: string[]}).warnings, [CAPTURE_ONLY_DENIED])
    // both enforced, or the host with no enforce rule at all: nothing to warn about
    for (const answers of ['e\ne\n', 'c\nc\n', 'r\nc\n']) {
      const q = ratify(answers)
      assert.equal(q.status, 0, q.stderr)
      assert.doesNotMatch(q.stderr, /WARNING/, answers)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
