/**
 * The `tls-tunnels --turn-cpu` stall measure (issue 16): a real node process preloaded with
 * bench/turn-cpu.ts runs one turn that burns CPU and one that sleeps; own-stall.ts must find each
 * as an own stall of at least its length, the first as CPU and the second as time asleep, whatever
 * the load (the bounds below are ones the load cannot break: run-queue wait is taken out, and the
 * thread's true CPU and sleep are at least what the script spent).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {busyStalls, ownStalls, type Stretch} from '../../../bench/own-stall.js'

const preload = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'turn-cpu.js')).href

// Turn 1 spins until the thread's own CPU (schedstat, which never runs ahead of the truth) rose 40 ms;
// turn 2 sleeps 40 ms inside the turn; each is stamped so the test can find its stretch.
const SCRIPT = `
const {readFileSync} = require('node:fs')
const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ', 1)[0]) / 1e6
const marks = []
setTimeout(() => {
  const c0 = cpu()
  while (cpu() - c0 < 40) {}
  marks.push(Date.now())
  setTimeout(() => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 40)
    marks.push(Date.now())
    setTimeout(() => { process.stdout.write(JSON.stringify(marks)); process.exit(0) }, 30)
  }, 30)
}, 50)
`

test('a turn that burns 40 ms of CPU and one that sleeps 40 ms are each found as an own stall of about that length: the first CPU, the second asleep', {skip: process.platform !== 'linux'}, () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'pl-own-stall-')), 'turn-cpu.json')
  const r = spawnSync(process.execPath, ['--import', preload, '-e', SCRIPT], {env: {...process.env, PL_TURN_CPU_FILE: file}, encoding: 'utf8'})
  assert.equal(r.status, 0, r.stderr)
  const [spinEnd, sleepEnd] = JSON.parse(r.stdout) as [number, number]
  const {stretches} = JSON.parse(readFileSync(file, 'utf8')) as {stretches: Stretch[]}
  for (const s of stretches) assert.equal(s.length, 7, 'each stretch carries its run-queue wait and the loop\'s idle time')
  for (const s of stretches) assert.ok(s[6]! >= 0 && s[6]! <= s[2] + 0.5, `idle within the stretch: ${JSON.stringify(s)}`)
  const stalls = ownStalls(stretches)
  // The stretch holding a turn ends at the first tick after it (within a few ms of the mark, or later under load).
  const after = (mark: number) => stalls.filter((s) => s.endMs >= mark).sort((a, b) => a.endMs - b.endMs)[0]!
  const spin = after(spinEnd)
  const sleep = after(sleepEnd)
  assert.notEqual(spin, sleep)
  // The script's own reads lag by up to a tick (4 ms) too: the spin's true CPU is over 36 ms.
  assert.ok(spin.own >= 35, `spin: ${JSON.stringify(spin)}`)
  assert.ok(spin.cpu >= 30, `spin CPU (the field lags by at most a tick): ${JSON.stringify(spin)}`)
  assert.ok(sleep.own >= 40, `sleep: ${JSON.stringify(sleep)}`)
  assert.ok(sleep.asleep >= 30 && sleep.asleep > sleep.cpu, `sleep asleep: ${JSON.stringify(sleep)}`)
  // Both turns kept the loop busy: sleeping inside a turn is a stall, not the loop's idle time.
  assert.ok(spin.busy >= 35 && spin.idle < 5, `spin busy: ${JSON.stringify(spin)}`)
  assert.ok(sleep.busy >= 40 && sleep.idle < 5, `sleep busy: ${JSON.stringify(sleep)}`)
  // wall = cpu + runq + idle + asleep, own = wall − runq, busy = wall − idle, longest first.
  for (const s of stalls) assert.ok(Math.abs(s.wall - s.cpu - s.runq - s.idle - s.asleep) < 1e-9 && Math.abs(s.own - s.wall + s.runq) < 1e-9 && Math.abs(s.busy - s.wall + s.idle) < 1e-9)
  for (let i = 1; i < stalls.length; i++) assert.ok(stalls[i - 1]!.own >= stalls[i]!.own)
})

test('the loop idle in its poll while the tick is overdue is no stall: busy = wall − idle, load-corrected busyOwn, older files read as all busy', () => {
  // [end, cpu, wall, startUs, endUs, runq, idle]: an idle proxy's 13 ms stretch (0.5 ms CPU, 12 ms in its poll), a 12 ms busy turn, a 15 ms turn with 4 ms in the run queue, an older file's stretch (no idle field).
  const stretches: Stretch[] = [[1, 0.5, 13, 0, 0, 0.5, 12], [2, 11, 12, 0, 0, 0, 0.2], [3, 9, 15, 0, 0, 4, 0.5], [4, 8, 9, 0, 0, 1]]
  const busy = busyStalls(stretches)
  assert.deepEqual(busy.map((s) => s.endMs), [3, 2, 4, 1])
  assert.deepEqual(busy.map((s) => Number(s.busy.toFixed(1))), [14.5, 11.8, 9, 1])
  assert.deepEqual(busy.map((s) => Number(s.busyOwn.toFixed(1))), [10.5, 11.8, 8, 0.5])
  // By own stall (wall − runq) the idle stretch still ranks first: the measure the idle time misled.
  assert.equal(ownStalls(stretches)[0]!.endMs, 1)
})
