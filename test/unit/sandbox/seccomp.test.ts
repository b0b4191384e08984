import {test} from 'node:test'
import assert from 'node:assert/strict'
import {ALLOWED_SYSCALLS, DENIED_BY_OMISSION, buildFilter, encodeFilter} from '../../../src/plugins/sandbox/index.js'

// The program bubblewrap loads (containment.md §2.8). Behaviour is tested on the kernel in
// test/e2e/sandbox.test.ts; this pins the bytes' layout and the rules a reader relies on.

test('the program starts with the architecture check and ends with the EPERM default', () => {
  const p = encodeFilter(buildFilter())
  assert.equal(p.length % 8, 0)
  const insn = (i: number): [number, number, number, number] => [p.readUInt16LE(i * 8), p.readUInt8(i * 8 + 2), p.readUInt8(i * 8 + 3), p.readUInt32LE(i * 8 + 4)]
  assert.deepEqual(insn(0), [0x20, 0, 0, 4]) // ld [arch]
  assert.deepEqual(insn(1), [0x15, 1, 0, 0xc000003e]) // jeq AUDIT_ARCH_X86_64
  assert.deepEqual(insn(2), [0x06, 0, 0, 0x80000000]) // ret KILL_PROCESS
  assert.deepEqual(insn(3), [0x20, 0, 0, 0]) // ld [nr]
  assert.deepEqual(insn(4), [0x35, 0, 1, 0x40000000]) // x32 numbers are killed
  assert.deepEqual(insn(p.length / 8 - 1), [0x06, 0, 0, 0x00050001]) // ret ERRNO(EPERM)
  assert.equal(p.length / 8, 546)
})

test('no denied call is on the allow list; every jump stays inside the program', () => {
  for (const s of [...DENIED_BY_OMISSION, 'io_uring_setup', 'kexec_load', 'init_module', 'clone3']) assert.ok(!ALLOWED_SYSCALLS.includes(s), s)
  const f = buildFilter()
  f.forEach((i, n) => {
    if ((i.code & 0x07) === 0x05) assert.ok(n + 1 + Math.max(i.jt, i.jf) < f.length, `jump at ${n} leaves the program`)
  })
})

test('docs/sandbox.md gives the allowlist size and the program length the code builds', async () => {
  const {readFileSync} = await import('node:fs')
  const {repoPath} = await import('../../helpers/vectors.js')
  const doc = readFileSync(repoPath('docs', 'sandbox.md'), 'utf8')
  assert.ok(doc.includes(`an allowlist of ${ALLOWED_SYSCALLS.length} calls`))
  const n = buildFilter().length
  assert.ok(doc.includes(`The program has ${n} instructions (\`[sandbox] syscall: ACTIVE (v${n})\`)`))
  assert.ok(doc.includes(`[sandbox] syscall: ACTIVE (v${n})\n`))
})
