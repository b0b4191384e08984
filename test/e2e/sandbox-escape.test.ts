/**
 * `pipelock sandbox` against a sandboxed process that tries to get out: real bubblewrap, real
 * namespaces and seccomp, real sh / node / curl inside, real servers on the host side. Each case
 * names the way out it closes and fails when the layer (or fix) that closes it is missing.
 */
import {after, before, describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type StdioOptions} from 'node:child_process'
import {once} from 'node:events'
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {cleanEnv} from '../helpers/fake-admin-api.js'
import {repoPath} from '../helpers/vectors.js'

const FAKE_KEY = 'fake-key-for-the-escape-test'

let root: string
let home: string
let ws: string
let cfg: string
let origin: http.Server
let originPort: number
const hits: string[] = []

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => cleanEnv({HOME: home, ...extra})

before(async () => {
  const bw = spawnSync('bwrap', ['--unshare-all', '--ro-bind', '/', '/', '--', '/bin/true'], {encoding: 'utf8'})
  assert.equal(bw.error, undefined, 'bubblewrap (bwrap) is not installed: node scripts/ensure-test-tools.mjs installs the Debian package bubblewrap')
  assert.equal(bw.status, 0, `bubblewrap cannot create user and network namespaces here (${bw.stderr.trim()}); the sandbox tests need them`)
  for (const tool of ['/usr/bin/curl', 'ip', 'unshare']) assert.equal(spawnSync(tool, ['-V']).error, undefined, `${tool} is missing (apt-get install curl iproute2 util-linux)`)
  root = mkdtempSync(path.join(tmpdir(), 'pipelock-sandbox-test-'))
  home = path.join(root, 'home')
  ws = path.join(root, 'ws')
  mkdirSync(path.join(home, '.ssh'), {recursive: true})
  writeFileSync(path.join(home, '.ssh', 'id_rsa'), FAKE_KEY + '\n', {mode: 0o600})
  mkdirSync(ws)
  origin = http.createServer((req, res) => {
    hits.push(req.url ?? '')
    res.end('host service\n')
  })
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r))
  originPort = (origin.address() as AddressInfo).port
  cfg = path.join(root, 'pipelock.yaml')
  // The default SSRF policy: nothing internal is trusted.
  writeFileSync(cfg, 'mode: balanced\n')
})

after(async () => {
  await new Promise<void>((r) => origin.close(() => r()))
  rmSync(root, {recursive: true, force: true})
})

describe('pipelock sandbox: descriptors pipelock inherited', () => {
  test('a directory and a connected socket pipelock was started with never reach the sandboxed process, nor the relay it could read them from', async () => {
    hits.length = 0
    // Descriptors 40 and 41 of pipelock, without close-on-exec (as a shell's `40<dir` leaves them):
    // the real HOME (outside the mount namespace) and a TCP connection to a host service (outside
    // the network namespace).
    const dir = openSync(home, 'r')
    const sock = net.connect(originPort, '127.0.0.1')
    await once(sock, 'connect')
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), dir, sock]
    // pid 2 is the in-sandbox relay that started the agent (pid 1 is bubblewrap's init).
    writeFileSync(path.join(ws, 'fds.js'), [
      "const fs = require('fs'); const out = [];",
      "for (const n of [40, 41]) for (const p of ['self', '2']) if (fs.existsSync('/proc/' + p + '/fd/' + n)) out.push('fd ' + n + ' open in ' + p);",
      "for (const f of ['/proc/self/fd/40/.ssh/id_rsa', '/proc/2/fd/40/.ssh/id_rsa']) { try { out.push(fs.readFileSync(f, 'utf8').trim()) } catch {} }",
      "try { fs.writeSync(41, 'GET /via-inherited-socket HTTP/1.0\\r\\n\\r\\n'); out.push('wrote to fd 41') } catch {}",
      "console.log(out.concat('end').join('\\n'));",
    ].join('\n'))
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', cfg, '--workspace', ws, '--', 'node', 'fds.js'], {cwd: repoPath(), env: env(), stdio})
    closeSync(dir)
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const [status] = (await once(child, 'close')) as [number | null]
    sock.destroy()
    assert.equal(status, 0, stderr)
    assert.equal(stdout, 'end\n')
    assert.deepEqual(hits, [])
  })
})

describe('pipelock sandbox: the proxy does not lead back to the host', () => {
  test("the host's own non-loopback addresses (IPv4 and IPv6), like its loopback, are internal to the embedded proxy: absolute URI, CONNECT and /fetch refused, nothing reached", async () => {
    // A private network namespace for this test alone, in which the host has a public-looking
    // address of its own on an interface (TEST-NET-3 and the IPv6 documentation prefix: outside
    // every range the SSRF floor covers), and a service bound on every address, as databases and
    // admin ports often are.
    const hitsFile = path.join(root, 'host-addr-hits')
    writeFileSync(hitsFile, '')
    const service = path.join(root, 'service.js')
    writeFileSync(service, `require('http').createServer((q, s) => { require('fs').appendFileSync(${JSON.stringify(hitsFile)}, q.url + '\\n'); s.end('host service\\n') }).listen(18443, '::', () => console.log('ready'))`)
    const agent = [
      'for t in 203.0.113.7 "[2001:db8::7]" 127.0.0.1 "[::1]" localhost; do',
      '  a=$(curl -gs -m 5 -o /dev/null -w "%{http_code}" "http://$t:18443/abs")',
      // The tunnel's answer: CONNECT refused before anything is dialled.
      '  c=$(curl -gs -m 5 -o /dev/null -w "%{http_connect}" -p "http://$t:18443/connect")',
      '  f=$(curl -gs -m 5 -o /dev/null -w "%{http_code}" --noproxy "*" "http://127.0.0.1:8888/fetch?url=http%3A%2F%2F$t%3A18443%2Ffetch")',

      '  echo "$t abs=$a connect=$c fetch=$f"',
      'done',
      // Directly, the host's address is not even routed.
      'env -u HTTP_PROXY -u http_proxy curl -s -m 5 http://203.0.113.7:18443/direct; echo "direct=$?"',
    ].join('\n')
    writeFileSync(path.join(ws, 'host-addr.sh'), agent)
    const outer = [
      'set -e',
      'ip link set lo up',
      'ip addr add 203.0.113.7/32 dev lo',
      'ip addr add 2001:db8::7/128 dev lo nodad',
      `node ${JSON.stringify(service)} > ${JSON.stringify(path.join(root, 'service.out'))} &`,
      'svc=$!',
      `while ! grep -q ready ${JSON.stringify(path.join(root, 'service.out'))} 2>/dev/null; do sleep 0.1; done`,
      // The control: from the host, the service answers on that address.
      'curl -s -m 5 http://203.0.113.7:18443/control',
      'set +e',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(repoPath('bin', 'run.js'))} sandbox --config ${JSON.stringify(cfg)} --workspace ${JSON.stringify(ws)} -- sh host-addr.sh`,
      'echo "status=$?"',
      'kill $svc',
    ].join('\n')
    const r = await new Promise<{status: number | null; stdout: string; stderr: string}>((resolve, reject) => {
      const c = spawn('unshare', ['--net', 'sh', '-c', outer], {cwd: repoPath(), env: env()})
      let stdout = ''
      let stderr = ''
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      c.on('error', reject)
      c.on('close', (status) => resolve({status, stdout, stderr}))
    })
    assert.equal(r.stdout, [
      'host service',
      '203.0.113.7 abs=403 connect=403 fetch=403',
      '[2001:db8::7] abs=403 connect=403 fetch=403',
      '127.0.0.1 abs=403 connect=403 fetch=403',
      '[::1] abs=403 connect=403 fetch=403',
      'localhost abs=403 connect=403 fetch=403',
      'direct=7',
      'status=0',
      '',
    ].join('\n'), r.stderr)
    assert.equal(readFileSync(hitsFile, 'utf8'), '/control\n')
    const reasons = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e.event === 'blocked').map((e) => e.reason)
    assert.ok(reasons.includes('SSRF blocked: 203.0.113.7 resolves to internal IP 203.0.113.7'), reasons.join('\n'))
    assert.ok(reasons.includes('SSRF blocked: 2001:db8::7 resolves to internal IP 2001:db8::7'), reasons.join('\n'))
  })
})
