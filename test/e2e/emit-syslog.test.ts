/**
 * Syslog emission against real receivers (operations.md §10.2): socat captures the raw bytes
 * (UDP datagrams, a TCP stream, a TLS stream) for byte-exact framing, Debian's rsyslogd proves
 * a real syslog parser accepts the lines, and a TCP peer that never reads must not slow proxied
 * requests. rsyslog and socat come from scripts/ensure-syslog-tools.sh (installed when missing;
 * a machine where they cannot be installed fails these tests — they never skip).
 */
import {after, before, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {freePort, makeSelfSignedCert, rawHttp, startProxy, tempDir, until, type RunningProxy} from './proxy-harness.js'
import {repoPath} from '../helpers/vectors.js'

const procs: ChildProcess[] = []
const cleanups: Array<() => Promise<unknown>> = []
before(() => {
  const r = spawnSync('sh', [repoPath('scripts', 'ensure-syslog-tools.sh')], {encoding: 'utf8', timeout: 600_000})
  assert.equal(r.status, 0, `rsyslog and socat are required for this test and could not be installed: ${r.stderr}`)
})
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined)
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
})

function spawnTool(cmd: string, args: string[]): ChildProcess {
  const p = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe']})
  procs.push(p)
  return p
}

async function stopTool(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return
  const exited = new Promise((r) => p.once('exit', r))
  p.kill('SIGTERM')
  await exited
}

const read = (f: string): string => (existsSync(f) ? readFileSync(f, 'utf8') : '')

async function blockRequest(p: RunningProxy, n: number): Promise<void> {
  const r = await rawHttp(p.port, {path: `/fetch?url=${encodeURIComponent(`https://pastebin.com/raw/s${n}`)}`})
  assert.equal(r.status, 403)
}

/** Waits until `port` accepts TCP connections (socat/rsyslog have started listening). */
async function listening(port: number): Promise<void> {
  const net = await import('node:net')
  assert.ok(await until(() => new Promise((resolve) => {
    const s = net.connect({host: '127.0.0.1', port}, () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
  }), 5000), `nothing listens on ${port}`)
}

// `<132>2026-05-25T10:30:12+02:00 host pipelock[pid]: {json}\n`
function lineRe(pid: number, scanner = 'blocklist'): RegExp {
  const host = os.hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^<132>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(Z|[+-]\\d\\d:\\d\\d) ${host} pipelock\\[${pid}\\]: \\{"severity":"warn","type":"blocked","timestamp":"[^"]+","pipelock_instance":"[^"]+","fields":\\{[^\\n]*"scanner":"${scanner}"[^\\n]*\\}\\}$`)
}

test('UDP: one datagram per line, byte-exact BSD framing (socat)', async () => {
  const dir = tempDir('pl-syslog-')
  const port = await freePort()
  const out = path.join(dir, 'udp.raw')
  spawnTool('socat', ['-u', `UDP4-RECV:${port},bind=127.0.0.1`, `OPEN:${out},creat,append`])
  await new Promise((r) => setTimeout(r, 300))
  const p = await startProxy(['emit:', `  syslog: {address: "udp://127.0.0.1:${port}"}`].join('\n') + '\n')
  cleanups.push(() => p.stop())
  await blockRequest(p, 1)
  await blockRequest(p, 2)
  assert.ok(await until(async () => read(out).split('\n').length >= 3, 4000), read(out))
  const lines = read(out).split('\n')
  assert.equal(lines.pop(), '') // every line ends with \n
  assert.equal(lines.length, 2)
  for (const l of lines) assert.match(l, lineRe(p.proc.pid!))
  assert.ok(lines[0]!.includes('"url":"https://pastebin.com/raw/s1"'))
})

test('TCP: newline-delimited stream; the receiver restarts and the sink reconnects (socat)', async () => {
  const dir = tempDir('pl-syslog-')
  const port = await freePort()
  const out = path.join(dir, 'tcp.raw')
  let socat = spawnTool('socat', ['-u', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,append`])
  await listening(port)
  // the probe connection above consumed socat's single accept; start the real one
  await stopTool(socat)
  socat = spawnTool('socat', ['-u', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,append`])
  await new Promise((r) => setTimeout(r, 300))
  const p = await startProxy(['emit:', `  syslog: {address: "tcp://127.0.0.1:${port}", facility: local0}`].join('\n') + '\n')
  cleanups.push(() => p.stop())
  await blockRequest(p, 1)
  assert.ok(await until(async () => read(out).includes('raw/s1'), 4000))
  await stopTool(socat) // the receiver goes away
  socat = spawnTool('socat', ['-u', `TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${out},creat,append`])
  await new Promise((r) => setTimeout(r, 300))
  await blockRequest(p, 2)
  assert.ok(await until(async () => read(out).includes('raw/s2'), 5000), `after the restart: ${read(out)}`)
  const lines = read(out).split('\n').filter((l) => l !== '')
  for (const l of lines) assert.match(l, lineRe(p.proc.pid!))
  assert.ok(read(out).endsWith('}}\n'))
})

test('TLS ([beyond]): tls:// with a pinned CA, RFC 5424 lines with octet counting (socat OPENSSL-LISTEN)', async () => {
  const dir = tempDir('pl-syslog-tls-')
  const tls = makeSelfSignedCert(dir)
  const keyPath = path.join(dir, 'key.pem')
  const port = await freePort()
  const out = path.join(dir, 'tls.raw')
  spawnTool('socat', ['-u', `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${tls.certPath},key=${keyPath},verify=0`, `OPEN:${out},creat,append`])
  await new Promise((r) => setTimeout(r, 500))
  const p = await startProxy([
    'emit:', `  syslog: {address: "tls://127.0.0.1:${port}", format: rfc5424, facility: local3, tag: plk, tls: {ca_file: "${tls.certPath}"}}`,
  ].join('\n') + '\n')
  cleanups.push(() => p.stop())
  await blockRequest(p, 7)
  assert.ok(await until(async () => read(out).includes('raw/s7'), 5000), read(out))
  const raw = read(out)
  const m = /^(\d+) (<156>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z \S+ plk (\d+) blocked - \{.*\}\})$/s.exec(raw)
  assert.ok(m, raw)
  assert.equal(Number(m[1]), Buffer.byteLength(m[2]!))
  assert.equal(Number(m[3]), p.proc.pid)
})

test('TLS: a receiver whose certificate the CA does not vouch for refuses start-up with one line', async () => {
  const dir = tempDir('pl-syslog-tls-')
  const tls = makeSelfSignedCert(dir)
  const port = await freePort()
  spawnTool('socat', ['-u', `OPENSSL-LISTEN:${port},bind=127.0.0.1,reuseaddr,cert=${tls.certPath},key=${path.join(dir, 'key.pem')},verify=0`, 'OPEN:/dev/null'])
  await new Promise((r) => setTimeout(r, 500))
  const cfg = path.join(dir, 'c.yaml')
  writeFileSync(cfg, ['emit:', `  syslog: {address: "tls://127.0.0.1:${port}"}`].join('\n') + '\n') // system roots only
  const r = spawnSync(process.execPath, [repoPath('bin', 'run.js'), 'run', '--config', cfg, '--listen', '127.0.0.1:0'], {encoding: 'utf8', timeout: 20_000, env: {...process.env, NO_COLOR: '1'}})
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /creating emit sinks: creating syslog sink: emit: syslog dial: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)[^\n]*\[EMIT_SINK_FAILED\]/)
})

test('rsyslogd parses the lines: PRI, timestamp, hostname, tag[pid] and the JSON message (UDP and TCP)', async () => {
  const dir = tempDir('pl-rsyslog-')
  const udp = await freePort()
  const tcp = await freePort()
  const out = path.join(dir, 'parsed.log')
  const conf = path.join(dir, 'rsyslog.conf')
  writeFileSync(conf, [
    `global(workDirectory="${dir}")`,
    'module(load="imudp")', 'module(load="imtcp")',
    `input(type="imudp" address="127.0.0.1" port="${udp}")`,
    `input(type="imtcp" address="127.0.0.1" port="${tcp}")`,
    'template(name="t" type="string" string="%pri%|%timereported:::date-rfc3339%|%hostname%|%syslogtag%|%msg%\\n")',
    `action(type="omfile" file="${out}" template="t")`,
  ].join('\n') + '\n')
  spawnTool('rsyslogd', ['-n', '-f', conf, '-i', path.join(dir, 'rsyslogd.pid')])
  await listening(tcp)
  const pU = await startProxy(['emit:', `  syslog: {address: "udp://127.0.0.1:${udp}", min_severity: warn}`].join('\n') + '\n')
  cleanups.push(() => pU.stop())
  const pT = await startProxy(['emit:', `  syslog: {address: "tcp://127.0.0.1:${tcp}", facility: LOCAL7}`].join('\n') + '\n')
  cleanups.push(() => pT.stop())
  await blockRequest(pU, 1)
  await blockRequest(pT, 2)
  assert.ok(await until(async () => read(out).includes('raw/s1') && read(out).includes('raw/s2'), 6000), read(out))
  const lines = read(out).split('\n').filter((l) => l.includes('"type":"blocked"'))
  const parse = (l: string) => {
    const [pri, ts, host, tag, ...msg] = l.split('|')
    return {pri, ts, host, tag, msg: JSON.parse(msg.join('|').trim()) as {type: string; fields: {url: string}}}
  }
  const u = parse(lines.find((l) => l.includes('raw/s1'))!)
  const t = parse(lines.find((l) => l.includes('raw/s2'))!)
  assert.equal(u.pri, '132')
  assert.equal(t.pri, String(23 * 8 + 4))
  for (const [x, pid] of [[u, pU.proc.pid], [t, pT.proc.pid]] as const) {
    assert.equal(x.host, os.hostname())
    assert.equal(x.tag, `pipelock[${pid}]:`)
    assert.match(x.ts!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/)
    assert.equal(x.msg.type, 'blocked')
  }
  assert.equal(u.msg.fields.url, 'https://pastebin.com/raw/s1')
})

test('a TCP receiver that never reads: requests keep flowing, the syslog queue fills and drops are counted', async () => {
  const port = await freePort()
  spawnTool('socat', [`TCP4-LISTEN:${port},bind=127.0.0.1,reuseaddr,rcvbuf=1024`, 'EXEC:sleep 60'])
  await new Promise((r) => setTimeout(r, 300))
  const metricsPort = await freePort()
  const p = await startProxy([
    `metrics_listen: 127.0.0.1:${metricsPort}`,
    'logging: {include_allowed: false}',
    'emit:', `  syslog: {address: "tcp://127.0.0.1:${port}", min_severity: info, queue_size: 16}`,
  ].join('\n') + '\n')
  cleanups.push(() => p.stop())
  // Big events (8 KB URLs) fill the kernel's send buffer (≤ 4 MiB here), then the queue.
  const long = 'a'.repeat(8000)
  for (let batch = 0; batch < 40; batch++) {
    await Promise.all(Array.from({length: 25}, async (_, j) => {
      const r = await rawHttp(p.port, {path: `/fetch?url=${encodeURIComponent(`https://pastebin.com/${long}/${batch * 25 + j}`)}`})
      assert.equal(r.status, 403)
    }))
  }
  const m = await rawHttp(metricsPort, {path: '/metrics'})
  const dropped = /pipelock_emit_events_dropped_total\{reason="queue_full",sink="syslog"\} (\d+)/.exec(m.body)
  assert.ok(dropped !== null && Number(dropped[1]) > 0, m.body.split('\n').filter((l) => l.includes('emit')).join('\n'))
  assert.match(m.body, /pipelock_emit_queue_depth\{sink="syslog"\} 16/)
  assert.equal((await rawHttp(p.port, {path: '/health'})).status, 200)
})
