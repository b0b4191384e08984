import {test} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fixedClock} from '../../../src/plugins/canonical/index.js'
import {openCaptureWriter} from '../../../src/plugins/capture/index.js'
import {PipelockError} from '../../../src/plugins/errors/index.js'
import {describeBuild, runLearnCompile, type LearnCompileRequest} from '../../../src/plugins/learn/index.js'
import {repoPath} from '../../helpers/vectors.js'

const CLOCK = fixedClock('2026-05-01T08:00:00Z')

function setup(dir: string): Omit<LearnCompileRequest, 'output'> {
  const w = openCaptureWriter(path.join(dir, 'cap'), {clock: CLOCK})
  w.append({
    sessionId: 'a1|1',
    transport: 'forward',
    detail: {capture_schema_version: 1, surface: 'url', subsurface: 'forward', config_hash: '', build_version: '', build_sha: '', agent: 'a1', payload_complete: false, transform_kind: '', request: {method: 'GET', url: 'https://a.example/x'}, raw_findings: null, effective_findings: null, effective_action: 'allow', outcome: 'clean'},
  })
  w.close()
  const config = path.join(dir, 'empty.yaml')
  writeFileSync(config, '')
  return {
    agent: 'a1',
    input: path.join(dir, 'cap', 'a1|1', '*.jsonl'),
    sinceMs: 0,
    configFile: config,
    configExplicit: true,
    deterministic: true,
    acceptTail: false,
    keystore: path.join(dir, 'keys'),
    home: path.join(dir, 'home'),
    clock: CLOCK,
    build: describeBuild(repoPath(), '20.0.0', 'test'),
  }
}

function code(e: unknown): string {
  return e instanceof PipelockError ? e.code : String(e)
}

test('outputs: defaults under home, 0600 files, parents created; refusals write nothing', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-compile-svc-'))
  try {
    const base = setup(dir)
    const s = await runLearnCompile(base)
    assert.equal(s.output, path.join(dir, 'home', 'contracts', 'candidates', 'a1.candidate.yaml'))
    assert.equal(s.review, path.join(dir, 'home', 'contracts', 'candidates', 'a1.candidate.review.md'))
    assert.equal(s.manifest, path.join(dir, 'home', 'contracts', 'candidates', 'a1.candidate.manifest.json'))
    assert.equal(statSync(s.output).mode & 0o777, 0o600)
    assert.equal(s.signerKeyId, 'deterministic-contract-compile')

    const out = path.join(dir, 'o')
    await assert.rejects(runLearnCompile({...base, output: 'relative.yaml'}), (e) => code(e) === 'PATH_NOT_ABSOLUTE')
    await assert.rejects(runLearnCompile({...base, output: path.join(out, 'c.yaml'), review: path.join(out, 'c.yaml')}), (e) => code(e) === 'USAGE')
    const target = path.join(dir, 'target.yaml')
    writeFileSync(target, 'x')
    symlinkSync(target, path.join(dir, 'link.yaml'))
    await assert.rejects(runLearnCompile({...base, output: path.join(dir, 'link.yaml')}), (e) => code(e) === 'PATH_UNSAFE')
    await assert.rejects(runLearnCompile({...base, agent: '../x', output: path.join(out, 'c.yaml')}), (e) => code(e) === 'AGENT_NAME_INVALID')
    await assert.rejects(runLearnCompile({...base, deterministic: false, output: path.join(out, 'c.yaml')}), (e) => code(e) === 'FILE_NOT_FOUND')
    await assert.rejects(runLearnCompile({...base, input: path.join(dir, 'nothing', '*.jsonl'), output: path.join(out, 'c.yaml')}), (e) => code(e) === 'CAPTURE_NO_INPUT')
    assert.ok(!existsSync(out) || readdirSync(out).length === 0)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('progress: reports input bytes against the total and the entries verified, ending at the whole input', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-compile-progress-'))
  try {
    const base = setup(dir)
    const calls: [number, number, number][] = []
    await runLearnCompile({...base, output: path.join(dir, 'o', 'c.yaml'), onProgress: (d, t, n) => calls.push([d, t, n])})
    const [file] = readdirSync(path.join(dir, 'cap', 'a1|1'))
    const size = statSync(path.join(dir, 'cap', 'a1|1', file as string)).size
    assert.ok(calls.length >= 1)
    assert.deepEqual(calls.at(-1), [size, size, 2]) // the capture-meta header line and one capture record
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})
