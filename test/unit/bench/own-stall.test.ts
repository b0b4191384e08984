/**
 * The `tls-tunnels --turn-cpu` stall measure (issue 16). What the figures are, exactly: the
 * preload's bookkeeping (stretch-recorder.ts) is fed readings of its clocks by the test, so a turn
 * that burns CPU and one that sleeps are checked to the digit, on a quiet machine and on a loaded
 * one (where the thread waits for a core: the run-queue wait is taken out of the own stall exactly,
 * while a wait for a core on waking from the poll counts in the loop's idle time too). Then a real
 * node process preloaded with bench/turn-cpu.ts runs one turn that burns CPU and one that sleeps:
 * its own stalls are found, each by bounds that load cannot break (the thread's true CPU and sleep
 * are at least what the script spent, and other processes only add run-queue wait, which is
 * subtracted).
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {test} from 'node:test'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {busyStalls, ownStalls, type OwnStall, type Stretch} from '../../../bench/own-stall.js'
import {StretchRecorder, type TickReading} from '../../../bench/stretch-recorder.js'

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

/**
 * Ticks of a thread whose counters move as given, from a fixed start: each step is what passed
 * since the previous tick (ms): on a CPU, in the run queue, in the poll, and in all.
 */
function record(steps: ReadonlyArray<{cpu: number; runq: number; idle: number; wall: number}>): StretchRecorder {
  let r: TickReading = {cpuNs: 5e9, runqNs: 1e9, wallMs: 1000, monoUs: 7_000_000, idleMs: 300, epochMs: 1_800_000_000_000}
  const rec = new StretchRecorder(r)
  for (const s of steps) {
    r = {cpuNs: r.cpuNs + s.cpu * 1e6, runqNs: r.runqNs + s.runq * 1e6, wallMs: r.wallMs + s.wall, monoUs: r.monoUs + s.wall * 1000, idleMs: r.idleMs + s.idle, epochMs: r.epochMs + s.wall}
    rec.tick(r)
  }
  return rec
}

const round = (s: OwnStall): Record<string, number> =>
  Object.fromEntries(Object.entries(s).filter(([k]) => k !== 'endMs').map(([k, v]) => [k, Number((v as number).toFixed(3))]))

test('the stretches of a 40 ms CPU turn and a 40 ms sleep, from the tick readings: quiet, and with the thread waiting for a core', () => {
  const idleTick = {cpu: 0.05, runq: 0, idle: 0.9, wall: 1}
  // Quiet: the spin (40.5 ms on the CPU), idle ticks, the sleep (0.6 ms CPU, 40.1 ms asleep); each
  // stretch also holds the 0.4 ms poll before its turn.
  const quiet = record([idleTick, {cpu: 40.5, runq: 0, idle: 0.4, wall: 41}, idleTick, idleTick, {cpu: 0.6, runq: 0, idle: 0.4, wall: 41.1}, idleTick])
  // Only the two turns are kept (≥ 2 ms CPU or ≥ 5 ms wall); the idle ticks are not.
  assert.deepEqual(quiet.stretches.map((s) => s.map((v) => Number(v.toFixed(3)))), [
    [1_800_000_000_042, 40.5, 41, 7_001_000, 7_042_000, 0, 0.4],
    [1_800_000_000_085.1, 0.6, 41.1, 7_044_000, 7_085_100, 0, 0.4],
  ])
  const [qSpin, qSleep] = [...ownStalls(quiet.stretches)].sort((a, b) => a.endMs - b.endMs)
  assert.deepEqual(round(qSpin!), {own: 41, wall: 41, cpu: 40.5, runq: 0, idle: 0.4, busy: 40.6, busyOwn: 40.6, asleep: 0.1})
  assert.deepEqual(round(qSleep!), {own: 41.1, wall: 41.1, cpu: 0.6, runq: 0, idle: 0.4, busy: 40.7, busyOwn: 40.7, asleep: 40.1})
  // The cumulative CPU every ≥ 10 ms of wall time: at the first tick, then once per turn here.
  assert.deepEqual(quiet.series.map(([, c]) => Number(c.toFixed(3))), [0.05, 40.55, 41.25])

  // Loaded: the same turns. The spin is preempted for 30 ms (run-queue wait); before the sleep the
  // poll's wake-up waits 12 ms for a core (in libuv's idle time and in the run-queue wait alike),
  // and after it 8 ms more.
  const loaded = record([idleTick, {cpu: 40.5, runq: 30, idle: 0.4, wall: 71}, idleTick, idleTick, {cpu: 0.6, runq: 20, idle: 12.4, wall: 61.1}, idleTick])
  const [lSpin, lSleep] = [...ownStalls(loaded.stretches)].sort((a, b) => a.endMs - b.endMs)
  // The own stall is the quiet one: the run-queue wait is taken out exactly.
  assert.equal(lSpin!.own, qSpin!.own)
  assert.equal(Number(lSleep!.own.toFixed(3)), Number(qSleep!.own.toFixed(3)))
  assert.deepEqual(round(lSpin!), {own: 41, wall: 71, cpu: 40.5, runq: 30, idle: 0.4, busy: 70.6, busyOwn: 40.6, asleep: 0.1})
  // The wake-up's 12 ms wait is in idle and in the run-queue wait, so asleep reads 12 ms low and
  // idle 12 ms high: neither is a bound a loaded machine keeps; own is.
  assert.deepEqual(round(lSleep!), {own: 41.1, wall: 61.1, cpu: 0.6, runq: 20, idle: 12.4, busy: 48.7, busyOwn: 28.7, asleep: 28.1})
})

test('in a real process, a turn that burns 40 ms of CPU and one that sleeps 40 ms are each found as an own stall of at least that length: the first CPU, the second not', {skip: process.platform !== 'linux'}, () => {
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
  // The script's own reads lag by up to a tick (4 ms) too: the spin's true CPU is over 36 ms. Load
  // only adds run-queue wait, which own (wall − runq) leaves out.
  assert.ok(spin.own >= 35, `spin: ${JSON.stringify(spin)}`)
  assert.ok(spin.cpu >= 30, `spin CPU (the field lags by at most a tick): ${JSON.stringify(spin)}`)
  // The sleep is own stall and not CPU: asleep, or (where the wake-up waited for a core, which
  // libuv counts as poll time too) idle; the split between the two is load's (see the test above).
  assert.ok(sleep.own >= 40, `sleep: ${JSON.stringify(sleep)}`)
  assert.ok(sleep.own - sleep.cpu >= 30, `sleep not CPU: ${JSON.stringify(sleep)}`)
  // Both turns kept the loop busy: sleeping inside a turn is a stall, not the loop's idle time.
  assert.ok(spin.busy >= 35, `spin busy: ${JSON.stringify(spin)}`)
  assert.ok(sleep.busy >= 40, `sleep busy: ${JSON.stringify(sleep)}`)
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
