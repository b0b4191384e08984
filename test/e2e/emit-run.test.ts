/**
 * Emission and text logs inside a running `pipelock run`: a reload swaps the sinks, a sink that
 * cannot be rebuilt keeps the old ones; `logging.format: text` on a pipe is plain text (no colour
 * even without NO_COLOR) while the file log stays JSON; on a terminal it is coloured.
 */
import {after, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'
import {freePort, rawHttp, startProxy, tempDir, until} from './proxy-harness.js'
import {repoPath} from '../helpers/vectors.js'

const cleanups: Array<() => Promise<unknown>> = []
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
})

async function receiver(): Promise<{port: number; urls: string[]}> {
  const urls: string[] = []
  const s = http.createServer((req, res) => {
    let b = ''
    req.on('data', (c: Buffer) => (b += c.toString('utf8')))
    req.on('end', () => {
      urls.push((JSON.parse(b) as {fields: {url: string}}).fields.url)
      res.end()
    })
  })
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  cleanups.push(async () => {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  })
  return {port: (s.address() as AddressInfo).port, urls}
}

test('reload: the new sink set takes over; a syslog sink that cannot connect keeps the old set and is audited', async () => {
  const a = await receiver()
  const b = await receiver()
  const dir = tempDir('pl-emit-reload-')
  const cfgFile = path.join(dir, 'pipelock.yaml')
  const yaml = (port: number, extra = ''): string => `emit:\n  webhook: {url: "http://127.0.0.1:${port}/"}\n${extra}`
  const p = await startProxy(yaml(a.port), {dir})
  cleanups.push(() => p.stop())
  await rawHttp(p.port, {path: '/fetch?url=https://pastebin.com/raw/r1'})
  assert.ok(await until(async () => a.urls.length === 1, 4000))
  writeFileSync(cfgFile, yaml(b.port))
  p.proc.kill('SIGHUP')
  assert.ok(await until(async () => p.stdout().includes('"event":"config_reload"'), 5000))
  await new Promise((r) => setTimeout(r, 300))
  await rawHttp(p.port, {path: '/fetch?url=https://pastebin.com/raw/r2'})
  assert.ok(await until(async () => b.urls.length === 1, 4000))
  assert.deepEqual([a.urls, b.urls], [['https://pastebin.com/raw/r1'], ['https://pastebin.com/raw/r2']])
  const dead = await freePort()
  writeFileSync(cfgFile, yaml(a.port, `  syslog: {address: "tcp://127.0.0.1:${dead}"}\n`))
  p.proc.kill('SIGHUP')
  assert.ok(await until(async () => p.stdout().includes('emit sink rebuild failed'), 5000), p.stdout())
  assert.match(p.stderr(), /pipelock: emit sink rebuild failed: creating emit sinks: creating syslog sink: emit: syslog dial: ECONNREFUSED/)
  await rawHttp(p.port, {path: '/fetch?url=https://pastebin.com/raw/r3'})
  assert.ok(await until(async () => b.urls.length === 2, 4000)) // the previous sinks are still in place
})

test('text log on a pipe: plain lines on stdout without NO_COLOR; the file log stays JSON', async () => {
  const dir = tempDir('pl-text-')
  const file = path.join(dir, 'audit.jsonl')
  const p = await startProxy(`logging: {format: text, output: both, file: ${file}}\n`, {dir, env: {NO_COLOR: ''}})
  cleanups.push(() => p.stop())
  await rawHttp(p.port, {path: '/fetch?url=https://pastebin.com/raw/t1'})
  assert.ok(await until(async () => p.stdout().includes('event=blocked'), 4000))
  const line = p.stdout().split('\n').find((l) => l.includes('event=blocked'))!
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d) WRN request blocked agent=anonymous .*reason="domain blocked: pastebin\.com matches \*\.pastebin\.com" .*url=https:\/\/pastebin\.com\/raw\/t1$/)
  assert.ok(!p.stdout().includes('\x1b['))
  assert.ok(await until(async () => readFileSync(file, 'utf8').includes('"event":"blocked"'), 4000))
  for (const l of readFileSync(file, 'utf8').trim().split('\n')) JSON.parse(l)
})

test('text log on a terminal: coloured; NO_COLOR turns colour off', () => {
  const dir = tempDir('pl-text-tty-')
  const cfg = path.join(dir, 'c.yaml')
  writeFileSync(cfg, 'logging: {format: text}\nkill_switch: {enabled: true}\n')
  const cmd = `timeout -s INT 6 ${process.execPath} ${repoPath('bin', 'run.js')} run --config ${cfg} --listen 127.0.0.1:0`
  // script(1) gives the proxy a pseudo-terminal for stdout
  const tty = (noColor: string): string => {
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], {encoding: 'utf8', timeout: 20_000, env: {...process.env, NO_COLOR: noColor, TERM: 'xterm'}})
    return r.stdout
  }
  const coloured = tty('')
  assert.match(coloured, /\x1b\[90m\d{4}-\d\d-\d\dT[^\x1b]+\x1b\[0m \x1b\[32mINF\x1b\[0m \x1b\[1mpipelock started\x1b\[0m \x1b\[36mcomponent=\x1b\[0mpipelock/)
  const plain = tty('1')
  assert.match(plain, / INF pipelock started component=pipelock/)
  assert.ok(!plain.includes('\x1b[3'))
})
