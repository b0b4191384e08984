import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import type {JsonObject} from '../../src/plugins/canonical/index.js'
import {loadContract} from '../../src/plugins/contracts/index.js'
import {applyDecisions, deterministicKey, resignContract} from '../../src/plugins/learn/index.js'
import {repoPath} from '../helpers/vectors.js'
import {CAPTURE_ONLY_DENIED, twoPathRuleCandidate} from './ratify-capture-only-fixture.js'

// The inquirer path of `learn ratify --interactive`: a real pseudo-terminal (util-linux
// `script`), keys typed one answer at a time. Skipped where `script` is not installed.

const hasScript = spawnSync('script', ['--version'], {encoding: 'utf8'}).status === 0

/** Runs `learn ratify --interactive` on a pseudo-terminal, typing each answer once its rule's prompt is on screen; the exit status and all output. */
async function ratifyOnTerminal(candidate: string, out: string, answers: readonly string[]): Promise<{status: number | null; output: string}> {
  const cmd = [process.execPath, repoPath('bin', 'run.js'), 'learn', 'ratify', '--candidate', candidate, '--interactive', '--accept-low-confidence', '--deterministic', '--out', out]
  const child = spawn('script', ['-qfec', cmd.map((a) => `'${a}'`).join(' '), '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, TERM: 'dumb'}})
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  // wait until the prompt for rule n is on screen (its evidence block, then the inquirer line)
  const waitForPrompt = async (n: number): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      const at = output.indexOf(`Rule ${n}/${answers.length}:`)
      if (at >= 0 && output.indexOf('Decision for this rule', at) >= 0) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`prompt ${n} never appeared:\n${output}`)
  }
  for (const [i, a] of answers.entries()) {
    await waitForPrompt(i + 1)
    if (i > 0) await new Promise((r) => setTimeout(r, 100))
    child.stdin.write(`${a}\r`)
  }
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return {status, output}
}

test('interactive ratify on a terminal: inquirer prompt, e then c', {skip: hasScript ? false : 'script(1) not available', timeout: 30_000}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-tty-'))
  try {
    // a two-rule candidate signed with the public deterministic compile key (trusted under --deterministic)
    const golden = repoPath('goldens', 'multi-hour', 'contract.yaml')
    const env = loadContract(readFileSync(golden, 'utf8'), golden)
    const rules = env.body.get('rules') as JsonObject[]
    const small = applyDecisions(env.body, rules.map((r, i) => (i < 2 ? (r.get('lifecycle_state') as 'capture_only') : 'reject')))
    const c = path.join(dir, 'candidate.yaml')
    writeFileSync(c, resignContract(small.body, deterministicKey('compile'), 'test').yaml)
    const out = path.join(dir, 'ratified.yaml')
    const {status, output} = await ratifyOnTerminal(c, out, ['e', 'c'])
    assert.equal(status, 0, output)
    assert.match(output, /Rule 1\/2: r-[0-9a-f]{20}/)
    assert.match(output, /ratify: 2 rules ratified \(1 enforce, 1 capture-only\), 0 rejected, written to /)
    const states = (loadContract(readFileSync(out, 'utf8'), out).body.get('rules') as JsonObject[]).map((r) => r.get('lifecycle_state'))
    assert.deepEqual(states, ['enforce', 'capture_only'])
    // the enforced host-wide rule still allows what the capture-only path rule names: no warning
    assert.doesNotMatch(output, /WARNING/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('interactive ratify on a terminal: a capture-only rule beside an enforced one of its host is warned about', {skip: hasScript ? false : 'script(1) not available', timeout: 30_000}, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-e2e-tty-'))
  try {
    const c = twoPathRuleCandidate(dir)
    const {status, output} = await ratifyOnTerminal(c, path.join(dir, 'ratified.yaml'), ['e', 'c'])
    assert.equal(status, 0, output)
    assert.deepEqual(output.split(/\r?\n/).filter((l) => l.startsWith('WARNING')), [`WARNING: ${CAPTURE_ONLY_DENIED}`])
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
