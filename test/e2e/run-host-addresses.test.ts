/**
 * `pipelock run` does not lead an agent back to the host it runs on: a destination on one of
 * this machine's own interface addresses is refused like a private address, a public IPv4 or
 * global IPv6 address on an interface included (the SSRF floor covers loopback and the private
 * ranges only, and a service the host binds on `0.0.0.0` or `::` answers on every address).
 * `ssrf.ip_allowlist` and `trusted_domains` still open one on purpose. Real sockets: a network
 * namespace of each test's own in which the host has 203.0.113.7 and 2001:db8::7 (outside every
 * range the floor covers) and a service on `::`, and the real interface list of this machine.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {networkInterfaces, tmpdir} from 'node:os'
import path from 'node:path'
import {checkDialAddresses, createUrlScanner, defaultScannerSettings} from '../../src/plugins/scanner/index.js'
import {hostAddressCidrs} from '../../src/plugins/proxy/host-addresses.js'
import {repoPath} from '../helpers/vectors.js'
import {freePort} from './proxy-harness.js'
import {runCli} from '../helpers/cli.js'

let root = ''
before(() => {
  for (const tool of ['/usr/bin/curl', 'ip', 'unshare']) assert.equal(spawnSync(tool, ['-V']).error, undefined, `${tool} is missing (apt-get install curl iproute2 util-linux)`)
  const probe = spawnSync('unshare', ['--net', 'true'])
  assert.equal(probe.status, 0, `unshare --net fails here (${String(probe.stderr)}): this test needs a network namespace of its own`)
  root = mkdtempSync(path.join(tmpdir(), 'pipelock-host-addr-'))
})
after(() => {
  if (root !== '') rmSync(root, {recursive: true, force: true})
})

/** Runs `pipelock run` with `config` in a fresh network namespace and `client` against it; stdout of the whole script. */
async function inNamespace(name: string, config: string, client: readonly string[]): Promise<{stdout: string; stderr: string; hits: string}> {
  const dir = path.join(root, name)
  spawnSync('mkdir', ['-p', dir])
  const hitsFile = path.join(dir, 'hits')
  writeFileSync(hitsFile, '')
  const cfg = path.join(dir, 'pipelock.yaml')
  writeFileSync(cfg, config)
  const service = path.join(dir, 'service.js')
  writeFileSync(service, `require('http').createServer((q, s) => { require('fs').appendFileSync(${JSON.stringify(hitsFile)}, q.url + '\\n'); s.end('host service\\n') }).listen(18443, '::', () => console.log('ready'))`)
  // The banner (stderr) and the audit log (stdout) of the run.
  const log = path.join(dir, 'run.log')
  const script = [
    'set -e',
    'ip link set lo up',
    'ip addr add 203.0.113.7/32 dev lo',
    'ip addr add 2001:db8::7/128 dev lo nodad',
    `node ${JSON.stringify(service)} > ${JSON.stringify(path.join(dir, 'service.out'))} &`,
    'svc=$!',
    `while ! grep -q ready ${JSON.stringify(path.join(dir, 'service.out'))} 2>/dev/null; do sleep 0.1; done`,
    // The control: from the host itself, the service answers on that address.
    'curl -s -m 5 http://203.0.113.7:18443/control',
    `${JSON.stringify(process.execPath)} ${JSON.stringify(repoPath('bin', 'run.js'))} run --config ${JSON.stringify(cfg)} --listen 127.0.0.1:18888 > ${JSON.stringify(log)} 2>&1 &`,
    'run=$!',
    `while ! grep -q '^  Listen: ' ${JSON.stringify(log)} 2>/dev/null; do kill -0 $run; sleep 0.1; done`,
    'set +e',
    ...client,
    'kill $run $svc',
    'wait $run',
  ].join('\n')
  const r = await new Promise<{stdout: string; stderr: string}>((resolve, reject) => {
    const c = spawn('unshare', ['--net', 'sh', '-c', script], {cwd: repoPath(), env: {...process.env, NO_COLOR: '1'}})
    let stdout = ''
    let stderr = ''
    c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    c.on('error', reject)
    c.on('close', () => resolve({stdout, stderr}))
  })
  let runErr = ''
  try {
    runErr = readFileSync(log, 'utf8')
  } catch {
    // The run never started: its absence is in the assertion's message.
  }
  return {stdout: r.stdout, stderr: r.stderr + runErr, hits: readFileSync(hitsFile, 'utf8')}
}

/** The three ways an agent names a destination: absolute URI, CONNECT, /fetch. */
function threeRoutes(targets: readonly string[]): string[] {
  return [
    `for t in ${targets.join(' ')}; do`,
    '  a=$(curl -gs -m 5 -o /dev/null -w "%{http_code}" -x http://127.0.0.1:18888 "http://$t:18443/abs")',
    '  c=$(curl -gs -m 5 -o /dev/null -w "%{http_connect}" -p -x http://127.0.0.1:18888 "http://$t:18443/connect")',
    '  f=$(curl -gs -m 5 -o /dev/null -w "%{http_code}" "http://127.0.0.1:18888/fetch?url=http%3A%2F%2F$t%3A18443%2Ffetch")',
    '  echo "$t abs=$a connect=$c fetch=$f"',
    'done',
  ]
}

const FORWARD = 'forward_proxy:\n  enabled: true\n'

describe("pipelock run: the host's own addresses are internal", () => {
  test('a public IPv4 and a global IPv6 address on an interface are refused by every route (403), nothing reaches the service', async () => {
    const r = await inNamespace('default', FORWARD, threeRoutes(['203.0.113.7', '"[2001:db8::7]"']))
    assert.equal(r.stdout, [
      'host service',
      '203.0.113.7 abs=403 connect=403 fetch=403',
      '[2001:db8::7] abs=403 connect=403 fetch=403',
      '',
    ].join('\n'), r.stderr)
    assert.equal(r.hits, '/control\n')
    assert.match(r.stderr, /SSRF blocked: 203\.0\.113\.7 resolves to internal IP 203\.0\.113\.7/)
    assert.match(r.stderr, /SSRF blocked: 2001:db8::7 resolves to internal IP 2001:db8::7/)
  })

  test('with internal: [] (the DNS stage off) the address is still refused, as a private address literal is', async () => {
    const r = await inNamespace('no-internal', FORWARD + 'internal: []\n', threeRoutes(['203.0.113.7']))
    assert.equal(r.stdout, 'host service\n203.0.113.7 abs=403 connect=403 fetch=403\n', r.stderr)
    assert.equal(r.hits, '/control\n')
    assert.match(r.stderr, /SSRF blocked: 203\.0\.113\.7 is in a core-protected range/)
  })

  test('ssrf.ip_allowlist opens the one address it names, on purpose; the other stays refused', async () => {
    const r = await inNamespace('allowlisted', FORWARD + 'ssrf:\n  ip_allowlist: ["203.0.113.7/32"]\n', threeRoutes(['203.0.113.7', '"[2001:db8::7]"']))
    assert.equal(r.stdout, [
      'host service',
      '203.0.113.7 abs=200 connect=200 fetch=200',
      '[2001:db8::7] abs=403 connect=403 fetch=403',
      '',
    ].join('\n'), r.stderr)
    assert.deepEqual(r.hits.split('\n').filter((h) => h === '/abs' || h === '/fetch'), ['/abs', '/fetch'])
  })
})

describe("the decision on this machine's real interface list", () => {
  test('every address of every interface is refused at dial time with the host addresses counted; ssrf.ip_allowlist reopens one', () => {
    const addresses = Object.values(networkInterfaces()).flatMap((l) => l ?? []).map((a) => a.address.split('%')[0]!)
    assert.ok(addresses.includes('127.0.0.1'), addresses.join(', '))
    const scanner = createUrlScanner(Object.assign(defaultScannerSettings(), {hostAddresses: hostAddressCidrs()}))
    for (const a of addresses) {
      const r = checkDialAddresses(scanner, 'service.test', [a])
      assert.equal(r.ok, false, `${a} was not refused`)
    }
    // An address outside the floor and outside this machine stays reachable.
    assert.deepEqual(checkDialAddresses(scanner, 'service.test', ['198.51.100.9']), {ok: true, ip: '198.51.100.9'})
    for (const a of addresses.filter((x) => checkDialAddresses(createUrlScanner(defaultScannerSettings()), 'service.test', [x]).ok)) {
      // The addresses only this protection refuses (a public or global one): ssrf.ip_allowlist opens each.
      const open = createUrlScanner(Object.assign(defaultScannerSettings(), {hostAddresses: hostAddressCidrs(), ssrfIpAllowlist: [`${a}/${a.includes(':') ? 128 : 32}`]}))
      assert.equal(checkDialAddresses(open, 'service.test', [a]).ok, true, a)
    }
  })
})

describe("pipelock run on this machine's own non-loopback address", () => {
  test('a service listening on every address is not reached through the proxy by the host interface address (absolute URI, /fetch)', async () => {
    const own = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => !a.internal && a.family === 'IPv4')
    assert.ok(own !== undefined, `this machine has no non-loopback IPv4 address (${JSON.stringify(networkInterfaces())}); the test needs one`)
    const hits: string[] = []
    const service = http.createServer((q, s) => {
      hits.push(q.url ?? '')
      s.end('host service\n')
    })
    await new Promise<void>((r) => service.listen(0, '0.0.0.0', r))
    const port = (service.address() as AddressInfo).port
    const dir = mkdtempSync(path.join(root, 'real-'))
    const cfg = path.join(dir, 'pipelock.yaml')
    writeFileSync(cfg, FORWARD)
    const proxyPort = await freePort()
    const run = spawn(process.execPath, [repoPath('bin', 'run.js'), 'run', '--config', cfg, '--listen', `127.0.0.1:${proxyPort}`], {cwd: repoPath(), env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'pipe']})
    let err = ''
    try {
      await new Promise<void>((resolve, reject) => {
        run.stderr.setEncoding('utf8').on('data', (d: string) => {
          err += d
          if (/^ {2}Listen: /m.test(err)) resolve()
        })
        run.once('exit', (code) => reject(new Error(`pipelock run exited (${code}) before listening:\n${err}`)))
      })
      // The control: directly, the service answers on that address.
      const direct = await fetch(`http://${own.address}:${port}/control`)
      assert.equal(direct.status, 200)
      const target = `http://${own.address}:${port}/abs`
      const abs = spawnSync('/usr/bin/curl', ['-s', '-m', '5', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://127.0.0.1:${proxyPort}`, target], {encoding: 'utf8'})
      const viaFetch = await fetch(`http://127.0.0.1:${proxyPort}/fetch?url=${encodeURIComponent(`http://${own.address}:${port}/fetch`)}`)
      assert.deepEqual({abs: abs.stdout, fetch: viaFetch.status}, {abs: '403', fetch: 403}, err)
      assert.deepEqual(hits, ['/control'])
    } finally {
      run.kill('SIGTERM')
      await new Promise<void>((r) => service.close(() => r()))
    }
  })
})

describe("pipelock check --url on this machine's own non-loopback address", () => {
  test('gives the verdict pipelock run gives: refused as internal, and opened by ssrf.ip_allowlist', () => {
    const own = Object.values(networkInterfaces()).flatMap((l) => l ?? []).find((a) => !a.internal && a.family === 'IPv4')
    assert.ok(own !== undefined, 'this machine has no non-loopback IPv4 address; the test needs one')
    const dir = mkdtempSync(path.join(root, 'check-'))
    const plain = path.join(dir, 'plain.yaml')
    writeFileSync(plain, 'mode: balanced\n')
    const open = path.join(dir, 'open.yaml')
    writeFileSync(open, `ssrf:\n  ip_allowlist: ["${own.address}/32"]\n`)
    const url = `http://${own.address}:5432/`
    const refused = runCli(['check', '--config', plain, '--url', url, '--json'])
    assert.equal(refused.status, 1, refused.stderr)
    assert.deepEqual((JSON.parse(refused.stdout) as {url: unknown}).url, {url, allowed: false, scanner: 'ssrf', reason: `SSRF blocked: ${own.address} resolves to internal IP ${own.address}`})
    const allowed = runCli(['check', '--config', open, '--url', url, '--json'])
    assert.equal(allowed.status, 0, allowed.stderr)
    assert.deepEqual((JSON.parse(allowed.stdout) as {url: unknown}).url, {url, allowed: true})
  })
})
