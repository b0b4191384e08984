/**
 * `pipelock sandbox` against a sandboxed process that tries to get out: real bubblewrap, real
 * namespaces and seccomp, real sh / node / curl inside, real servers on the host side. Each case
 * names the way out it closes and fails when the layer (or fix) that closes it is missing.
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync, type StdioOptions} from 'node:child_process'
import {once} from 'node:events'
import {closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import dgram from 'node:dgram'
import path from 'node:path'
import {cleanEnv, runCliAsync} from '../helpers/fake-admin-api.js'
import {repoPath} from '../helpers/vectors.js'
import {useSandboxHost} from './sandbox-rig.js'

const FAKE_KEY = 'fake-key-for-the-escape-test'
/** A secret only pipelock's own environment holds (as an admin token would be). */
const PARENT_SECRET = 'parent-only-Yw4Qm8Rt2Lx6'

const host = useSandboxHost({
  key: FAKE_KEY + '\n',
  originBody: 'host service\n',
  prepare: () => {
    for (const tool of ['/usr/bin/curl', 'ip', 'unshare']) assert.equal(spawnSync(tool, ['-V']).error, undefined, `${tool} is missing (apt-get install curl iproute2 util-linux)`)
  },
  // The default SSRF policy: nothing internal is trusted.
  config: () => 'mode: balanced\n',
})
const {hits, env, sandbox} = host

describe('pipelock sandbox: descriptors pipelock inherited', () => {
  test('a directory and a connected socket pipelock was started with never reach the sandboxed process, nor the relay it could read them from', async () => {
    hits.length = 0
    // Descriptors 40 and 41 of pipelock, without close-on-exec (as a shell's `40<dir` leaves them):
    // the real HOME (outside the mount namespace) and a TCP connection to a host service (outside
    // the network namespace).
    const dir = openSync(host.home, 'r')
    const sock = net.connect(host.originPort, '127.0.0.1')
    await once(sock, 'connect')
    const stdio: StdioOptions = ['ignore', 'pipe', 'pipe', ...Array<'ignore'>(37).fill('ignore'), dir, sock]
    // pid 2 is the in-sandbox relay that started the agent (pid 1 is bubblewrap's init).
    writeFileSync(path.join(host.ws, 'fds.js'), [
      "const fs = require('fs'); const out = [];",
      "for (const n of [40, 41]) for (const p of ['self', '2']) if (fs.existsSync('/proc/' + p + '/fd/' + n)) out.push('fd ' + n + ' open in ' + p);",
      "for (const f of ['/proc/self/fd/40/.ssh/id_rsa', '/proc/2/fd/40/.ssh/id_rsa']) { try { out.push(fs.readFileSync(f, 'utf8').trim()) } catch {} }",
      "try { fs.writeSync(41, 'GET /via-inherited-socket HTTP/1.0\\r\\n\\r\\n'); out.push('wrote to fd 41') } catch {}",
      "console.log(out.concat('end').join('\\n'));",
    ].join('\n'))
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', host.cfg, '--workspace', host.ws, '--', 'node', 'fds.js'], {cwd: repoPath(), env: env(), stdio})
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

describe('pipelock sandbox: the host beyond the workspace and the proxy', () => {
  test('abstract and path Unix sockets of the host, UDP and TCP to host loopback (IPv4 and IPv6) reach nothing', async () => {
    hits.length = 0
    const accepted: string[] = []
    const abstractName = `pipelock-escape-${process.pid}`
    const abs = net.createServer((c) => {
      accepted.push('abstract')
      c.destroy()
    })
    await new Promise<void>((r) => abs.listen(`\0${abstractName}`, r))
    const sockPath = path.join(host.root, 'host.sock')
    const unix = net.createServer((c) => {
      accepted.push('path')
      c.destroy()
    })
    await new Promise<void>((r) => unix.listen(sockPath, r))
    const v6 = http.createServer((req, res) => {
      accepted.push(`v6 ${req.url}`)
      res.end()
    })
    await new Promise<void>((r) => v6.listen(host.originPort, '::1', r))
    const udp = dgram.createSocket('udp4')
    udp.on('message', (m) => accepted.push(`udp ${String(m)}`))
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r))
    const udpPort = udp.address().port
    // The control: from the host, both Unix sockets answer.
    for (const p of [`\0${abstractName}`, sockPath]) await once(net.connect(p), 'connect')
    while (accepted.length < 2) await new Promise((r) => setTimeout(r, 10))
    assert.deepEqual(accepted.sort(), ['abstract', 'path'])
    accepted.length = 0
    const agent = [
      "const net = require('net'), dgram = require('dgram'); const out = [];",
      'const t = (label, opts) => new Promise((r) => { const s = net.connect(opts); s.setTimeout(3000); s.on(\'connect\', () => { s.write(\'GET /direct HTTP/1.0\\r\\n\\r\\n\'); out.push(label + \' connected\'); s.destroy(); r() }); s.on(\'error\', (e) => { out.push(label + \' \' + e.code); r() }); s.on(\'timeout\', () => { out.push(label + \' timeout\'); s.destroy(); r() }) });',
      `(async () => {`,
      `  await t('abstract', {path: '\\0${abstractName}'});`,
      `  await t('path', {path: ${JSON.stringify(sockPath)}});`,
      `  await t('v4', {host: '127.0.0.1', port: ${host.originPort}});`,
      `  await t('v6', {host: '::1', port: ${host.originPort}});`,
      `  const u = dgram.createSocket('udp4'); await new Promise((r) => u.send('leak', ${udpPort}, '127.0.0.1', () => r())); u.close();`,
      `  console.log(out.join('\\n'));`,
      `})()`,
    ].join('\n')
    writeFileSync(path.join(host.ws, 'reach.js'), agent)
    try {
      const r = await sandbox(['--', 'node', 'reach.js'])
      assert.equal(r.status, 0, r.stderr)
      // Abstract sockets belong to the network namespace, the host's /tmp is not mounted, and the
      // namespace's loopback is its own.
      assert.equal(r.stdout, ['abstract ECONNREFUSED', 'path ENOENT', 'v4 ECONNREFUSED', 'v6 ECONNREFUSED', ''].join('\n'))
      // The datagram was sent, to the namespace's own loopback: the host's socket never sees it.
      await new Promise((r) => setTimeout(r, 200))
      assert.deepEqual(accepted, [])
      assert.deepEqual(hits, [])
    } finally {
      abs.close()
      unix.close()
      v6.close()
      udp.close()
    }
  })

  test('host processes are out of sight and reach: no environ or command line of pipelock, no signal to it or its parent', async () => {
    const script = [
      // A pattern that matches the secret without being it (grep's own command line holds it).
      `grep -l '${PARENT_SECRET.slice(0, -1)}[${PARENT_SECRET.slice(-1)}]' /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null && echo "secret visible"`,
      // This test's process is pipelock's parent, on the host.
      `kill -0 ${process.pid} 2>/dev/null && echo "signal delivered" || echo "no such process"`,
      'ls -d /proc/[0-9]* | wc -l | tr -d " "',
    ].join('\n')
    const r = await sandbox(['--', 'sh', '-c', script], {ADMIN_TOKEN: PARENT_SECRET})
    assert.equal(r.status, 0, r.stderr)
    // bubblewrap's init, the relay, the shell and the pipeline's processes: none of the host's.
    const [verdict, count] = r.stdout.trim().split('\n')
    assert.equal(verdict, 'no such process', r.stdout)
    assert.ok(Number(count) <= 8, r.stdout)
    assert.doesNotMatch(r.stdout, /secret visible/)
  })
})

describe('pipelock sandbox: the proxy does not lead back to the host', () => {
  test("the host's own non-loopback addresses (IPv4 and IPv6), like its loopback, are internal to the embedded proxy: absolute URI, CONNECT and /fetch refused, nothing reached", async () => {
    // A private network namespace for this test alone, in which the host has a public-looking
    // address of its own on an interface (TEST-NET-3 and the IPv6 documentation prefix: outside
    // every range the SSRF floor covers), and a service bound on every address, as databases and
    // admin ports often are.
    const hitsFile = path.join(host.root, 'host-addr-hits')
    writeFileSync(hitsFile, '')
    const service = path.join(host.root, 'service.js')
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
    writeFileSync(path.join(host.ws, 'host-addr.sh'), agent)
    const outer = [
      'set -e',
      'ip link set lo up',
      'ip addr add 203.0.113.7/32 dev lo',
      'ip addr add 2001:db8::7/128 dev lo nodad',
      `node ${JSON.stringify(service)} > ${JSON.stringify(path.join(host.root, 'service.out'))} &`,
      'svc=$!',
      `while ! grep -q ready ${JSON.stringify(path.join(host.root, 'service.out'))} 2>/dev/null; do sleep 0.1; done`,
      // The control: from the host, the service answers on that address.
      'curl -s -m 5 http://203.0.113.7:18443/control',
      'set +e',
      `${JSON.stringify(process.execPath)} ${JSON.stringify(repoPath('bin', 'run.js'))} sandbox --config ${JSON.stringify(host.cfg)} --workspace ${JSON.stringify(host.ws)} -- sh host-addr.sh`,
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

describe('pipelock sandbox: the kill switch holds for the sandboxed process', () => {
  test('kill_switch.allowlist_ips covering loopback (where the bridge connects from) does not exempt the agent', async () => {
    hits.length = 0
    // A config shared with `pipelock run`, where local tooling is exempt from the kill switch.
    const exempt = (on: boolean): string => {
      const f = path.join(host.root, `kill-switch-${on}.yaml`)
      writeFileSync(f, ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'kill_switch:', `  enabled: ${on}`, '  allowlist_ips: ["127.0.0.0/8", "::1/128"]', ''].join('\n'))
      return f
    }
    const curl = `curl -s -w ' %{http_code}\\n' http://127.0.0.1:${host.originPort}/`
    // The control: with the switch off the request goes out.
    const off = await runCliAsync(['sandbox', '--config', exempt(false), '--workspace', host.ws, '--', 'sh', '-c', `${curl}switch-off`], {env: env()})
    assert.equal(off.status, 0, off.stderr)
    assert.equal(off.stdout, 'host service\n 200\n')
    const on = await runCliAsync(['sandbox', '--config', exempt(true), '--workspace', host.ws, '--', 'sh', '-c', `${curl}switch-on`], {env: env()})
    assert.equal(on.status, 0, on.stderr)
    assert.equal(on.stdout, 'blocked: kill_switch_active\n 403\n')
    assert.deepEqual(hits, ['/switch-off'])
    assert.ok(on.stderr.split('\n').includes("pipelock: kill_switch.allowlist_ips is not applied by the sandbox's proxy: every request of the sandboxed process reaches it from the bridge on 127.0.0.1, so an exempt address would exempt the agent from the kill switch"), on.stderr)
  })
})

describe("pipelock sandbox: the host's daemon sockets", () => {
  test('an allow_read entry covering /tmp (ssh-agent, tmux, X11 sockets) or inside /run is refused before launch: a read-only mount does not stop connect()', async () => {
    // A daemon's socket below /tmp, as ssh-agent's /tmp/ssh-*/agent.* is.
    const dir = mkdtempSync(path.join('/tmp', 'pipelock-escape-daemon-'))
    const sockPath = path.join(dir, 'agent.sock')
    const accepted: string[] = []
    const daemon = net.createServer((c) => {
      accepted.push('connected')
      c.end('daemon answers\n')
    })
    await new Promise<void>((r) => daemon.listen(sockPath, r))
    writeFileSync(path.join(host.ws, 'daemon.js'), `const c = require('net').connect(${JSON.stringify(sockPath)}); c.on('data', (d) => process.stdout.write(String(d))); c.on('error', (e) => console.log(e.code))`)
    // The config outside /tmp, so that only the entry under test is what could be refused.
    const cfgDir = mkdtempSync(path.join('/var/tmp', 'pipelock-escape-config-'))
    try {
      for (const [entry, verb, where] of [['/tmp', 'covers', '/tmp'], ['/run/user', 'is inside', '/run']] as const) {
        const f = path.join(cfgDir, 'daemon-sockets.yaml')
        writeFileSync(f, `sandbox:\n  filesystem:\n    allow_read: [${JSON.stringify(entry)}]\n`)
        // A HOME outside /tmp (this run's is below it, and would be refused as covering ~/.ssh).
        const r = await runCliAsync(['sandbox', '--config', f, '--workspace', host.ws, '--', 'node', 'daemon.js'], {env: cleanEnv({HOME: '/nonexistent-home-of-the-escape-test'})})
        // Launched, the agent would print the daemon's answer.
        assert.equal(r.stdout, '')
        assert.equal(r.status, 1, r.stderr)
        assert.equal(r.stderr, `sandbox allow_read "${entry}" (resolves to "${entry}") ${verb} ${where}, where the host's daemons keep their Unix sockets (ssh-agent, tmux, D-Bus, Docker): a socket stays connectable through a read-only mount, a way out of the sandbox — use a directory of its own [SANDBOX_POLICY]\n`)
      }
      assert.deepEqual(accepted, [])
    } finally {
      daemon.close()
      rmSync(dir, {recursive: true, force: true})
      rmSync(cfgDir, {recursive: true, force: true})
    }
  })
})
