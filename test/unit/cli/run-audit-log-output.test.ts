import {test} from 'node:test'
import assert from 'node:assert/strict'
import {auditLogOutput} from '../../../src/cli/run-proxy.js'

// `pipelock run`: the audit log's stream, and the colour decision taken from that same stream.

function stream(isTTY: boolean): {isTTY: boolean; out: string[]; write: (s: string) => boolean} {
  const out: string[] = []
  return {isTTY, out, write: (s: string) => (out.push(s), true)}
}

test('no agent: the log goes to stdout, coloured only when stdout is a terminal', () => {
  const out = stream(true)
  const err = stream(false)
  const o = auditLogOutput(false, out, err)
  o.stdout.write('line\n')
  assert.deepEqual(out.out, ['line\n'])
  assert.deepEqual(err.out, [])
  assert.equal(o.stdoutIsTty, true)
  assert.equal(auditLogOutput(false, stream(false), stream(true)).stdoutIsTty, false)
})

test('an agent launched: the log goes to stderr, and colour follows stderr, not the terminal on stdout', () => {
  // `pipelock run -- agent 2>pipelock.log` from a terminal: stdout is the terminal, stderr a file.
  const out = stream(true)
  const err = stream(false)
  const o = auditLogOutput(true, out, err)
  o.stdout.write('line\n')
  assert.deepEqual(err.out, ['line\n'])
  assert.deepEqual(out.out, [])
  assert.equal(o.stdoutIsTty, false)
  assert.equal(auditLogOutput(true, stream(false), stream(true)).stdoutIsTty, true)
})
