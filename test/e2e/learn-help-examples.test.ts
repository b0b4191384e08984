import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// The --help examples of learn observe and learn compile are commands that work.

test('learn observe --help: the agent header goes to the proxy (--proxy-header), not only to the origin', () => {
  const r = runCli(['learn', 'observe', '--help'])
  assert.equal(r.status, 0, r.stderr)
  const text = r.stdout.replace(/ \\\n\s+/g, ' ') // oclif wraps long example lines with " \"
  assert.ok(text.includes('HTTPS_PROXY=http://127.0.0.1:8888 curl --proxy-header "X-Pipelock-Agent: my-agent" https://api.example.com/v1/users'), r.stdout)
  assert.ok(!text.includes('curl -H "X-Pipelock-Agent'), r.stdout)
})

test('learn compile --help: the --input glob matches the <agent>|<client ip>/ folders observe writes', () => {
  const r = runCli(['learn', 'compile', '--help'])
  assert.equal(r.status, 0, r.stderr)
  assert.ok(r.stdout.replace(/ \\\n\s+/g, ' ').includes('--input "/var/lib/pipelock/capture/my-agent|*/*.jsonl"'), r.stdout)
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-help-'))
  try {
    const capture = path.join(dir, 'capture')
    cpSync(repoPath('goldens', 'multi-session', 'input'), capture, {recursive: true})
    const out = path.join(dir, 'candidate.yaml')
    const c = runCli(['learn', 'compile', '--agent', 'shop-agent', '--input', `${capture}/shop-agent|*/*.jsonl`, '--deterministic', '--output', out])
    assert.equal(c.status, 0, c.stderr)
    assert.ok(existsSync(out))
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
