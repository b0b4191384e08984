import assert from 'node:assert/strict'
import {test} from 'node:test'
import {defaultConfig} from '../../../src/plugins/config/index.js'
import {DOCTOR_CHECKS, doctorChecksSentence, runDoctor, type DoctorEnvironment} from '../../../src/plugins/preflight/index.js'

// `doctor --help` is written from DOCTOR_CHECKS: the checks runDoctor makes must be that list —
// the ones without a switch always, each switched one exactly when its switch is on.

const env: DoctorEnvironment = {
  readableFile: () => true,
  readablePath: () => true,
  writableDir: () => true,
  isRoot: false,
  tlsCaProblem: () => undefined,
  sandboxLayers: () => [{name: 'filesystem', available: true, bypass: ''}, {name: 'network', available: true, bypass: ''}, {name: 'syscall', available: true, bypass: ''}],
}

const names = (c: ReturnType<typeof defaultConfig>): string[] => runDoctor(c, 'test', '0.0.0', env).checks.map((x) => x.name)

test('the built-in defaults run the checks without a switch, in the listed order', () => {
  assert.deepEqual(names(defaultConfig()), DOCTOR_CHECKS.filter((c) => c.when === undefined).map((c) => c.name))
})

test('each switched check runs with its switch on, and with all of them every listed check runs', () => {
  const all = defaultConfig()
  for (const check of DOCTOR_CHECKS.filter((c) => c.when !== undefined)) {
    const c = defaultConfig()
    if (check.when === 'sandbox.enabled') c.sandbox = {...c.sandbox, enabled: true}
    else if (check.when === 'flight_recorder.enabled') c.flight_recorder = {...c.flight_recorder, enabled: true, dir: '/var/lib/pipelock/recorder'}
    else assert.fail(`no test switch for ${check.when}`)
    assert.deepEqual(names(c), DOCTOR_CHECKS.filter((x) => x.when === undefined || x === check).map((x) => x.name), check.name)
  }
  all.sandbox = {...all.sandbox, enabled: true}
  all.flight_recorder = {...all.flight_recorder, enabled: true, dir: '/var/lib/pipelock/recorder'}
  assert.deepEqual(names(all), DOCTOR_CHECKS.map((c) => c.name))
})

test('the help sentence counts the checks that always run and names the switched ones', () => {
  const s = doctorChecksSentence()
  assert.ok(s.startsWith('Ten checks, offline (no network access): proxy listeners and enforce, '), s)
  assert.ok(s.includes('; two more when their feature is on: sandbox (with sandbox.enabled) runs bubblewrap once'), s)
  assert.ok(s.includes('; flight_recorder (with flight_recorder.enabled) checks that the evidence directory can be written'), s)
})
