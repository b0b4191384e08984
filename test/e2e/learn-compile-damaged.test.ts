import {test} from 'node:test'
import assert from 'node:assert/strict'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {runCli} from '../helpers/cli.js'
import {repoPath} from '../helpers/vectors.js'

// learn compile over a capture directory where a session's first file is damaged: the session is
// left out (the poisoned-capture rule), but never silently; when nothing is readable the error
// says the files could not be read, not that there are none.

function captureDir(damaged: string[]): {dir: string; config: string; file: (s: string) => string} {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pipelock-damaged-'))
  const root = path.join(dir, 'capture')
  const file = (s: string): string => path.join(root, `shop-agent|${s}`, `evidence-shop-agent|${s}-0.jsonl`)
  for (const s of ['10.0.0.1', '10.0.0.2']) cpSync(repoPath('goldens', 'multi-session', 'input', `shop-agent|${s}`), path.join(root, `shop-agent|${s}`), {recursive: true})
  for (const s of damaged) {
    const rest = readFileSync(file(s), 'utf8').split('\n').slice(1).join('\n')
    writeFileSync(file(s), '{"truncated\n' + rest)
  }
  const config = path.join(dir, 'pipelock.yaml')
  writeFileSync(config, `learn:\n  capture_dir: ${root}\n`)
  return {dir, config, file}
}

const compile = (c: {dir: string; config: string}, extra: string[] = []) =>
  runCli(['learn', 'compile', '--agent', 'shop-agent', '--config', c.config, '--since', '87600h', '--deterministic', '--output', path.join(c.dir, 'out.yaml'), ...extra])

test('learn compile warns for each damaged session it leaves out and lists them in --json', () => {
  const c = captureDir(['10.0.0.2'])
  try {
    const r = compile(c)
    assert.equal(r.status, 0, r.stderr)
    assert.equal(
      r.stderr.split('\n').filter((l) => l.startsWith('WARNING')).join('\n'),
      `WARNING: learn compile: skipped a damaged capture session (its evidence is not in the contract): ${c.file('10.0.0.2')} line 1: first line is not JSON (truncated or damaged)`,
    )
    const j = runCli(['learn', 'compile', '--agent', 'shop-agent', '--config', c.config, '--since', '87600h', '--deterministic', '--output', path.join(c.dir, 'out2.yaml'), '--json'])
    assert.equal(j.status, 0, j.stderr)
    const out = JSON.parse(j.stdout) as {inputs: string[]; skippedInputs: unknown[]}
    assert.ok(out.inputs.every((f) => f.includes('|10.0.0.1/')), j.stdout)
    assert.deepEqual(out.skippedInputs, [{file: c.file('10.0.0.2'), line: 1, reason: 'first line is not JSON (truncated or damaged)'}])
  } finally {
    rmSync(c.dir, {recursive: true, force: true})
  }
})

test('learn compile with every session damaged says the files could not be read', () => {
  const c = captureDir(['10.0.0.1', '10.0.0.2'])
  try {
    const r = compile(c)
    assert.equal(r.status, 1)
    const root = path.join(c.dir, 'capture')
    assert.equal(
      r.stderr,
      `${c.file('10.0.0.1')}:1: the capture files for agent "shop-agent" under ${root} could not be read: ` +
        `${c.file('10.0.0.1')} line 1: first line is not JSON (truncated or damaged); ${c.file('10.0.0.2')} line 1: first line is not JSON (truncated or damaged)` +
        ' [CAPTURE_LINE_INVALID]; hint: repair or move the damaged files; learn compile reads nothing it cannot verify\n',
    )
    // learn shadow --agent discovers the sessions the same way and refuses the same way.
    const s = runCli(['learn', 'shadow', '--config', c.config, '--agent', 'shop-agent', '--contract', repoPath('goldens', 'multi-session', 'contract.yaml'), '--allow-unsigned-contract-for-diagnostics', '--duration', '876000h', '--out', path.join(c.dir, 'shadow.md')])
    assert.equal(s.status, 1)
    assert.equal(s.stderr.split('\n').at(-2), r.stderr.trimEnd().replace('learn compile reads', 'learn shadow reads'))
  } finally {
    rmSync(c.dir, {recursive: true, force: true})
  }
})

test('a capture file whose last line was cut short (a crash mid-write) is read up to it, by compile and shadow alike, and the cut is named', () => {
  const c = captureDir([])
  try {
    const whole = compile(c)
    assert.equal(whole.status, 0, whole.stderr)
    const contract = readFileSync(path.join(c.dir, 'out.yaml'), 'utf8')
    // A whole line, cut: no line break, does not decode.
    const last = path.join(path.dirname(c.file('10.0.0.2')), 'evidence-shop-agent|10.0.0.2-50.jsonl')
    const lines = readFileSync(last, 'utf8').split('\n')
    const cutAt = lines.filter((l) => l !== '').length + 1
    writeFileSync(last, readFileSync(last, 'utf8') + lines[0]!.slice(0, 60))
    const warning = `left out the last line of ${last} (line ${cutAt}, 60 bytes, no line break, `
    const r = compile(c)
    assert.equal(r.status, 0, r.stderr)
    const warned = r.stderr.split('\n').filter((l) => l.startsWith('WARNING'))
    assert.equal(warned.length, 1, r.stderr)
    assert.ok(warned[0]!.startsWith(`WARNING: learn compile: ${warning}`), warned[0])
    assert.ok(warned[0]!.endsWith('): a write cut short by a crash or a full disk'), warned[0])
    assert.equal(readFileSync(path.join(c.dir, 'out.yaml'), 'utf8'), contract, 'the same contract: the cut line held no event')
    const s = runCli(['learn', 'shadow', '--contract', path.join(c.dir, 'out.yaml'), '--allow-unsigned-contract-for-diagnostics', '--sessions', path.join(c.dir, 'capture'), '--duration', '876000h', '--out', path.join(c.dir, 'shadow.md')])
    assert.equal(s.status, 0, s.stderr)
    assert.ok(s.stderr.includes(`WARNING: learn shadow: ${warning}`), s.stderr)
    // A cut line that is not the file's last still fails: only a crash explains a cut tail.
    writeFileSync(last, readFileSync(last, 'utf8') + '\n' + lines[0] + '\n')
    const mid = compile(c)
    assert.equal(mid.status, 1)
    assert.match(mid.stderr, new RegExp(`^${last.replace(/[|.]/g, '\\$&')}:${cutAt}: not a recorder entry: .*\\[CAPTURE_LINE_INVALID\\]`))
  } finally {
    rmSync(c.dir, {recursive: true, force: true})
  }
})

test('learn compile and learn shadow for an agent without sessions name the agents there are; compile for sessions older than --since says so', () => {
  const c = captureDir([])
  try {
    const root = path.join(c.dir, 'capture')
    const r = runCli(['learn', 'compile', '--agent', 'wiki-agent', '--config', c.config, '--deterministic', '--output', path.join(c.dir, 'out.yaml')])
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `no capture session of agent "wiki-agent" under ${root} [CAPTURE_NO_INPUT]; hint: sessions there belong to: shop-agent\n`)
    const since = runCli(['learn', 'compile', '--agent', 'shop-agent', '--config', c.config, '--since', '1ns', '--deterministic', '--output', path.join(c.dir, 'out2.yaml')])
    assert.equal(since.status, 1)
    assert.equal(
      since.stderr,
      `no capture files for agent "shop-agent" under ${root} in the --since window [CAPTURE_NO_INPUT]; hint: its 2 sessions hold no file modified since then: give a longer --since (a Go duration, such as 720h)\n`,
    )
    rmSync(root, {recursive: true})
    mkdirSync(root)
    const empty = runCli(['learn', 'shadow', '--config', c.config, '--agent', 'shop-agent', '--contract', repoPath('goldens', 'multi-session', 'contract.yaml'), '--allow-unsigned-contract-for-diagnostics', '--duration', '876000h', '--out', path.join(c.dir, 'shadow.md')])
    assert.equal(empty.status, 1)
    assert.equal(
      empty.stderr,
      'warning: unverified contract accepted because --allow-unsigned-contract-for-diagnostics is set; shadow replay is diagnostic only\n' +
        `learn shadow: no capture session of agent "shop-agent" under ${root} [CAPTURE_NO_INPUT]; hint: nothing has been captured there yet: run pipelock learn observe (or run with capture) first, or give --sessions\n`,
    )
  } finally {
    rmSync(c.dir, {recursive: true, force: true})
  }
})
