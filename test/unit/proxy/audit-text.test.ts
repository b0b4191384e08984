import assert from 'node:assert/strict'
import {test} from 'node:test'
import {formatTextLine, textWriter} from '../../../src/plugins/proxy/audit-text.js'
import {AuditLog} from '../../../src/plugins/proxy/index.js'

const plus2 = () => 120
const blocked = {
  level: 'warn', time: '2026-05-25T08:15:02.123Z', component: 'pipelock', event: 'blocked', message: 'request blocked',
  agent: 'claude', client_ip: '127.0.0.1', method: 'GET', mitre_technique: 'T1071.001',
  reason: 'domain blocked: pastebin.com matches *.pastebin.com', request_id: 'req-3', scanner: 'blocklist', url: 'https://pastebin.com/raw/x',
}

test('text line without colour: the OP §7.1 example byte for byte', () => {
  assert.equal(
    formatTextLine(blocked, {colour: false, offsetMinutes: plus2}),
    '2026-05-25T10:15:02+02:00 WRN request blocked agent=claude client_ip=127.0.0.1 component=pipelock event=blocked method=GET mitre_technique=T1071.001 reason="domain blocked: pastebin.com matches *.pastebin.com" request_id=req-3 scanner=blocklist url=https://pastebin.com/raw/x\n',
  )
})

test('text line: quoting, error first, numbers, bools, null, arrays, sorted objects, levels, empty message', () => {
  const line = {
    level: 'error', time: '2026-05-25T08:15:02Z', message: '', zeta: 'tab\there', error: 'boom "x"', accent: 'é', back: 'a\\b', esc: '\x1b[1m',
    n: 403, f: 2.5, ok: false, nil: null, list: ['a', 'b c'], obj: {b: 1, a: [true]}, empty: '',
  }
  assert.equal(
    formatTextLine(line, {colour: false, offsetMinutes: () => 0}),
    '2026-05-25T08:15:02Z ERR error="boom \\"x\\"" accent="é" back="a\\\\b" empty= esc="\\x1b[1m" f=2.5 list=["a","b c"] n=403 nil=null obj={"a":[true],"b":1} ok=false zeta="tab\\there"\n',
  )
  assert.ok(formatTextLine({level: 'info', time: 'x', message: 'm'}, {colour: false, offsetMinutes: () => 0}).startsWith('x INF m'))
  assert.ok(formatTextLine({level: 'debug', time: '2026-05-25T08:15:02Z'}, {colour: false, offsetMinutes: () => 0}).includes(' DBG'))
  assert.ok(formatTextLine({level: 'trace', time: '2026-05-25T08:15:02Z'}, {colour: false, offsetMinutes: () => 0}).includes(' ???'))
})

test('text line with colour: the ANSI spans of OP §7.1', () => {
  const E = '\x1b['
  assert.equal(
    formatTextLine({level: 'warn', time: '2026-05-25T08:15:02Z', message: 'request blocked', error: 'bad', scanner: 'dlp'}, {colour: true, offsetMinutes: () => 0}),
    `${E}90m2026-05-25T08:15:02Z${E}0m ${E}33mWRN${E}0m ${E}1mrequest blocked${E}0m ${E}36merror=${E}0m${E}31m${E}1mbad${E}0m${E}0m ${E}36mscanner=${E}0mdlp\n`,
  )
  assert.ok(formatTextLine({level: 'info', time: 'x', message: 'm'}, {colour: true, offsetMinutes: () => 0}).includes(`${E}32mINF${E}0m`))
  assert.ok(formatTextLine({level: 'error', time: 'x', message: 'm'}, {colour: true, offsetMinutes: () => 0}).includes(`${E}31mERR${E}0m`))
})

test('audit log: a text writer gets text lines while a file writer keeps JSON, same events', () => {
  const text: string[] = []
  const json: string[] = []
  const log = new AuditLog([textWriter({write: (l) => text.push(l)}, false, () => 0), {write: (l) => json.push(l)}], {includeAllowed: true, includeBlocked: true, now: () => new Date('2026-05-25T08:15:02Z')})
  log.event('info', 'startup', 'pipelock started', {mode: 'balanced'})
  log.event('warn', 'kill_switch', 'kill switch ACTIVATED via API', {active: true})
  log.flush()
  assert.equal(text.join(''), '2026-05-25T08:15:02Z INF pipelock started component=pipelock event=startup mode=balanced\n2026-05-25T08:15:02Z WRN kill switch ACTIVATED via API active=true component=pipelock event=kill_switch\n')
  assert.deepEqual(json.join('').trim().split('\n').map((l) => JSON.parse(l).event), ['startup', 'kill_switch'])
})
