/**
 * `pipelock sandbox` and `mcp proxy --sandbox` end to end: the built CLI, bubblewrap, the real
 * kernel's namespaces and seccomp, real curl / python3 / node inside, a loopback origin on the
 * host. Nothing is skipped: on a machine without a layer the first test says which and fails.
 */
import {describe, test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {runCliAsync} from '../helpers/fake-admin-api.js'
import {repoPath} from '../helpers/vectors.js'
import {encodePrivateKeyText, encodePublicKeyText, goPrivateKey, keyPairFromSeed} from '../../src/plugins/signing/index.js'
import {wrapMcpProxy} from '../helpers/mcp.js'
import {useSandboxHost} from './sandbox-rig.js'

const FAKE_KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-for-the-sandbox-test\n-----END OPENSSH PRIVATE KEY-----\n'
/** An AWS-shaped key id (the core DLP pattern): blocked when it leaves in a URL. */
const AWS_KEY = 'AKIAIOSFODNN7EXAMPLX'
const CANARY = 'canary-Zq7Vt3Lk9Pw2Xr8'

const host = useSandboxHost({
  key: FAKE_KEY,
  originBody: 'origin says hello\n',
  prepare: (root: string, home: string) => {
    // The layers this file tests beyond bubblewrap: fail loudly, naming what the machine lacks.
    assert.match(readFileSync('/proc/self/status', 'utf8'), /^Seccomp:/m, 'this kernel has no seccomp: the syscall filter cannot be tested')
    for (const tool of ['/usr/bin/curl', '/usr/bin/python3']) assert.equal(spawnSync(tool, ['--version']).status, 0, `${tool} is missing (apt-get install curl python3)`)
    mkdirSync(path.join(home, '.aws'), {recursive: true})
    writeFileSync(path.join(home, '.aws', 'credentials'), '[default]\naws_secret_access_key = fake\n')
    writeFileSync(path.join(root, 'outside.txt'), 'host file outside the workspace\n')
  },
  config: () => [
    // The loopback origin is trusted by IP (the proxy refuses internal addresses otherwise).
    'ssrf:',
    '  ip_allowlist: ["127.0.0.1/32"]',
    'canary_tokens:',
    '  enabled: true',
    '  tokens:',
    '    - name: planted',
    `      value: ${CANARY}`,
    '      env_var: SERVICE_TOKEN',
  ].join('\n') + '\n',
})
const {hits, env, sandbox} = host

/** The JSON audit lines pipelock wrote (the sandbox sends its audit log to stderr). */
function auditEvents(stderr: string): Array<Record<string, unknown>> {
  return stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)
}


/** Host processes whose command line holds `token`. */
function processesWith(token: string): number[] {
  const pids: number[] = []
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(token)) pids.push(Number(d))
    } catch {
      // gone
    }
  }
  return pids
}

/** The sandbox directories pipelock made in `dir` (its TMPDIR). */
const sandboxDirs = (dir: string): string[] => readdirSync(dir).filter((d) => /^pipelock-sandbox-/.test(d))

describe('pipelock sandbox: filesystem', () => {
  test('the real HOME and its keys do not exist inside; HOME is synthetic and writable', async () => {
    const r = await sandbox(['--', 'sh', '-c', `cat ${host.home}/.ssh/id_rsa; echo "rc=$?"; cat ~/.ssh/id_rsa; echo "rc=$?"; ls ${host.home}; echo "rc=$?"; echo "HOME=$HOME"; touch "$HOME/ok" && echo home-writable`])
    assert.equal(r.status, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /fake-key-for-the-sandbox-test/)
    assert.equal(r.stdout, [
      'rc=1', 'rc=1', 'rc=2', 'HOME=/tmp/pipelock-sandbox/home', 'home-writable', '',
    ].join('\n'))
    assert.match(r.stderr, new RegExp(`cat: ${host.home}/\\.ssh/id_rsa: No such file or directory`))
  })

  test('a direct `cat ~/.ssh/id_rsa` fails', async () => {
    const r = await sandbox(['--', 'sh', '-c', 'cat ~/.ssh/id_rsa'])
    assert.equal(r.status, 1)
    assert.equal(r.stdout, '')
  })

  test('writes land in the workspace only; host files outside it and /etc/hostname are absent', async () => {
    // ${host.root} inside is the sandbox's own tmpfs (it holds the workspace's mount point): a write
    // there succeeds and vanishes with the sandbox; the host directory never sees it.
    const r = await sandbox(['--', 'sh', '-c', `echo inside > ${host.ws}/made-inside.txt && echo wrote-inside; echo x > ${host.root}/escape.txt; echo x > /usr/escape.txt 2>/dev/null || echo no-write-usr; cat ${host.root}/outside.txt 2>/dev/null || echo no-read-outside; cat /etc/hostname 2>/dev/null || echo no-hostname; pwd`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, ['wrote-inside', 'no-write-usr', 'no-read-outside', 'no-hostname', host.ws, ''].join('\n'))
    assert.equal(readFileSync(path.join(host.ws, 'made-inside.txt'), 'utf8'), 'inside\n')
    assert.equal(existsSync(path.join(host.root, 'escape.txt')), false)
  })

  test('an allow_read entry covering a protected directory is refused before launch', async () => {
    const bad = path.join(host.root, 'bad.yaml')
    writeFileSync(bad, `sandbox:\n  filesystem:\n    allow_read: [${JSON.stringify(host.home)}]\n`)
    const r = await runCliAsync(['sandbox', '--config', bad, '--workspace', host.ws, '--', 'true'], {env: env()})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `sandbox allow_read "${host.home}" (resolves to "${host.home}") covers protected directory "${host.home}/.ssh" — remove it or use a narrower path [SANDBOX_POLICY]\n`)
  })

  test('the config, the receipt signing key and the recorder where the agent could reach them: refused before launch, --dry-run says so', async () => {
    const hint = '; hint: keep it outside the workspace and sandbox.filesystem.allow_read/allow_write (for example under ~/.config/pipelock, which the sandbox never shows)\n'
    // The config in the workspace: the agent could edit the policy the proxy reloads.
    const inWs = path.join(host.ws, 'pipelock.yaml')
    writeFileSync(inWs, 'mode: balanced\n')
    const r = await runCliAsync(['sandbox', '--config', inWs, '--workspace', host.ws, '--', 'true'], {env: env()})
    assert.equal(r.status, 1)
    assert.equal(r.stderr, `the config file ${inWs} (${inWs}) is inside the workspace ${host.ws}, which the sandboxed process can write: it could rewrite the policy it runs under (the proxy reloads the file) and read its canary values and tokens [SANDBOX_POLICY]${hint}`)
    const dry = await runCliAsync(['sandbox', '--config', inWs, '--workspace', host.ws, '--dry-run', '--json', '--', 'true'], {env: env()})
    assert.equal(dry.status, 2, dry.stderr)
    assert.deepEqual((JSON.parse(dry.stdout) as {errors: string[]}).errors, [`policy: the config file ${inWs} (${inWs}) is inside the workspace ${host.ws}, which the sandboxed process can write: it could rewrite the policy it runs under (the proxy reloads the file) and read its canary values and tokens`])
    rmSync(inWs)
    // A signing key under allow_read (read-only inside): readable is enough to forge receipts.
    const keys = mkdtempSync(path.join(host.root, 'exposed-keys-'))
    const keyFile = path.join(keys, 'receipt.key')
    writeFileSync(keyFile, encodePrivateKeyText(goPrivateKey(keyPairFromSeed(Buffer.alloc(32, 9)))), {mode: 0o600})
    const kCfg = path.join(host.root, 'exposed-key.yaml')
    writeFileSync(kCfg, ['flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(host.root, 'exposed-recorder'))}`, `  signing_key_path: ${JSON.stringify(keyFile)}`, 'sandbox:', '  filesystem:', `    allow_read: [${JSON.stringify(keys)}]`, ''].join('\n'))
    const k = await runCliAsync(['sandbox', '--config', kCfg, '--workspace', host.ws, '--', 'true'], {env: env()})
    assert.equal(k.status, 1)
    assert.equal(k.stderr, `flight_recorder.signing_key_path (${keyFile}) is inside sandbox.filesystem.allow_read ${keys}, which the sandboxed process can read: it could forge receipts under your signing key [SANDBOX_POLICY]${hint}`)
    // The recorder's directory (not created yet) under allow_write: the evidence could be rewritten.
    const shared = mkdtempSync(path.join(host.root, 'exposed-write-'))
    const rCfg = path.join(host.root, 'exposed-recorder.yaml')
    writeFileSync(rCfg, ['flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(path.join(shared, 'evidence'))}`, 'sandbox:', '  filesystem:', `    allow_write: [${JSON.stringify(shared)}]`, ''].join('\n'))
    const w = await runCliAsync(['sandbox', '--config', rCfg, '--workspace', host.ws, '--', 'true'], {env: env()})
    assert.equal(w.status, 1)
    assert.equal(w.stderr, `flight_recorder.dir (${path.join(shared, 'evidence')}) is inside sandbox.filesystem.allow_write ${shared}, which the sandboxed process can write: it could rewrite or delete the evidence and the scoped exceptions kept there [SANDBOX_POLICY]${hint}`)
  })

  test('the bridge directory holding the proxy socket is read-only inside', async () => {
    const r = await sandbox(['--', 'sh', '-c', `touch /run/pipelock/x 2>/dev/null && echo wrote || echo read-only; rm -f /run/pipelock/proxy.sock 2>/dev/null && echo removed || echo kept; curl -s -o /dev/null -w "%{http_code}\\n" http://127.0.0.1:${host.originPort}/through-the-bridge`])
    assert.equal(r.status, 0, r.stderr)
    // The socket still carries the agent's requests.
    assert.equal(r.stdout, 'read-only\nkept\n200\n')
  })
})

describe('pipelock sandbox: network', () => {
  test('curl through the proxy variables reaches the origin and is scanned; a secret in the URL is blocked and recorded', async () => {
    hits.length = 0
    const url = `http://127.0.0.1:${host.originPort}`
    // The key reaches the agent through --env (pipelock prints variable names, never values).
    const r = await sandbox(['--env', `LEAK_KEY=${AWS_KEY}`, '--', 'sh', '-c', `curl -s -w ' %{http_code}\\n' ${url}/clean; curl -s -o /dev/null -w '%{http_code}\\n' "${url}/leak?key=$LEAK_KEY"`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'origin says hello\n 200\n403\n')
    assert.deepEqual(hits, ['/clean'])
    const events = auditEvents(r.stderr)
    const allowed = events.find((e) => e.event === 'allowed')
    assert.equal(allowed?.url, `${url}/clean`)
    const blocked = events.find((e) => e.event === 'blocked')
    assert.equal(blocked?.block_reason, 'dlp_match')
    assert.match(String(blocked?.reason), /AWS Access ID/)
    assert.doesNotMatch(r.stderr, new RegExp(AWS_KEY))
  })

  test('curl with the proxy variables cleared reaches nothing', async () => {
    hits.length = 0
    const r = await sandbox(['--', 'sh', '-c', `env -u HTTP_PROXY -u http_proxy -u HTTPS_PROXY -u https_proxy curl -s -m 5 http://127.0.0.1:${host.originPort}/direct; echo "curl=$?"`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'curl=7\n') // 7: could not connect
    assert.deepEqual(hits, [])
  })

  test('a raw socket (python3 socket.create_connection) to the origin fails', async () => {
    hits.length = 0
    const py = `import socket\ntry:\n  socket.create_connection(("127.0.0.1", ${host.originPort}), timeout=5)\n  print("connected")\nexcept OSError as e:\n  print("refused", e.errno)\n`
    const r = await sandbox(['--', 'python3', '-c', py])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'refused 111\n')
    assert.deepEqual(hits, [])
  })
})

describe('pipelock sandbox: syscall filter', () => {
  test('ptrace, mount, unshare, io_uring and AF_VSOCK get EPERM; clone3 ENOSYS; AF_UNIX works; reboot kills', async () => {
    const py = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'def call(n, *a):',
      '  r = libc.syscall(n, *a)',
      '  return "ok" if r >= 0 else os.strerror(ctypes.get_errno())',
      'for name, n, a in [("ptrace", 101, (0, 0, 0, 0)), ("mount", 165, (0, 0, 0, 0, 0)), ("unshare", 272, (0x10000000,)), ("io_uring_setup", 425, (1, 0)), ("socket_vsock", 41, (40, 1, 0)), ("socket_unix", 41, (1, 1, 0)), ("clone3", 435, (0, 0))]:',
      '  print(name, call(n, *a))',
    ].join('\n')
    const r = await sandbox(['--', 'sh', '-c', `python3 -c '${py}'; unshare -U true 2>/dev/null; echo "unshare=$?"; python3 -c 'import ctypes; ctypes.CDLL(None).syscall(169, 0, 0, 0, 0)'; echo "reboot=$?"`])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, [
      'ptrace Operation not permitted', 'mount Operation not permitted', 'unshare Operation not permitted', 'io_uring_setup Operation not permitted',
      'socket_vsock Operation not permitted', 'socket_unix ok', 'clone3 Function not implemented', 'unshare=1', 'reboot=159', '',
    ].join('\n'))
  })

  test('node starts and runs under the filter (io_uring refused, epoll used)', async () => {
    const r = await sandbox(['--', 'node', '-e', 'require("fs").readFile("/etc/passwd", (e, b) => console.log(e ? e.code : "read " + (b.length > 0)))'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'read true\n')
  })
})

describe('pipelock sandbox: report, modes, exit status', () => {
  test('the start-up lines report all three layers', async () => {
    const r = await sandbox(['--', 'true'])
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('[sandbox]') || l.startsWith('pipelock: launching'))
    assert.deepEqual(lines, [
      `pipelock: launching sandboxed process [true] (workspace=${host.ws}, mode=default)`,
      '[sandbox] filesystem: ACTIVE',
      '[sandbox] network: ACTIVE (isolated namespace)',
      '[sandbox] syscall: ACTIVE (v546)',
      '[sandbox] containment: 3/3 layers active',
      '[sandbox] bridge proxy: 127.0.0.1:8888 → /run/pipelock/proxy.sock',
    ])
    // The embedded proxy's banner names what the agent is given, not the host port it listens on.
    assert.ok(r.stderr.split('\n').includes('  Agents: inside the sandbox HTTPS_PROXY=http://127.0.0.1:8888 HTTP_PROXY=http://127.0.0.1:8888 (bridged to this proxy)'), r.stderr)
  })

  test('--dry-run --json reports the layers (exit 0)', async () => {
    const r = await sandbox(['--dry-run', '--json', '--', 'python3', 'agent.py'])
    assert.equal(r.status, 0, r.stderr)
    const version = spawnSync('bwrap', ['--version'], {encoding: 'utf8'}).stdout.trim()
    assert.deepEqual(JSON.parse(r.stdout), {
      status: 'capabilities_ok', workspace: host.ws, command: ['/usr/bin/python3', 'agent.py'], mode: 'default',
      layers: [
        {name: 'filesystem', available: true, required: false, detail: version},
        // The default mode refuses to launch without the network namespace.
        {name: 'network', available: true, required: true, detail: 'network namespace, loopback only; egress through the pipelock bridge'},
        {name: 'syscall', available: true, required: false},
      ],
      private_shm: true,
    })
  })

  test('--dry-run --json: required says what the mode refuses to launch without, available or not', async () => {
    const d = await sandbox(['--dry-run', '--json', '--', 'true'], {PIPELOCK_SANDBOX_DISABLE: 'network'})
    assert.equal(d.status, 2)
    const report = JSON.parse(d.stdout) as {mode: string; layers: Array<{name: string; required: boolean}>; errors: string[]}
    assert.equal(report.mode, 'default')
    assert.deepEqual(report.layers.map((l) => [l.name, l.required]), [['filesystem', false], ['network', true], ['syscall', false]])
    assert.deepEqual(report.errors, ['default mode needs the network namespace: use --best-effort to run degraded'])
    const requiredOf = async (flag: string): Promise<boolean[]> =>
      (JSON.parse((await sandbox(['--dry-run', '--json', flag, '--', 'true'])).stdout) as {layers: Array<{required: boolean}>}).layers.map((l) => l.required)
    assert.deepEqual(await requiredOf('--best-effort'), [false, false, false])
    assert.deepEqual(await requiredOf('--strict'), [true, true, true])
  })

  test('the words after -- are the command as given, even a -c that is also a pipelock flag', async () => {
    // The short -c for the config, then the agent's own -c (the helper above uses --config).
    const r = await runCliAsync(['sandbox', '-c', host.cfg, '--workspace', host.ws, '--dry-run', '--json', '--', 'sh', '-c', 'echo hi'], {env: env({})})
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual((JSON.parse(r.stdout) as {command: string[]}).command, ['/usr/bin/sh', '-c', 'echo hi'])
    const stray = await sandbox(['stray', '--', 'true'])
    assert.equal(stray.status, 2)
    assert.equal(stray.stderr, 'unexpected argument "stray" before --: the agent\'s command goes after -- [USAGE]\n')
  })

  test('--dry-run of a command that is not on PATH says so, not that the sandbox is unavailable (exit 2)', async () => {
    const r = await sandbox(['--dry-run', '--', 'no-such-agent-command'])
    assert.equal(r.status, 2)
    assert.ok(r.stdout.includes('  ERROR: command "no-such-agent-command": executable file not found in $PATH'), r.stdout)
    assert.equal(r.stderr, 'sandbox dry run: command "no-such-agent-command": executable file not found in $PATH: no-such-agent-command not found in PATH; the sandbox itself is available [SANDBOX_NOT_AVAILABLE]\n')
  })

  test('--dry-run with the network layer missing: degraded, exit 1, names the bypass', async () => {
    const r = await sandbox(['--dry-run', '--best-effort', '--', 'true'], {PIPELOCK_SANDBOX_DISABLE: 'network'})
    assert.equal(r.status, 1)
    assert.equal(r.stdout, [
      'Sandbox Preflight: DEGRADED (2/3 layers available)', '',
      `  Workspace:    ${host.ws}`, '  Command:      /usr/bin/true', '  Mode:         best-effort', '',
      '  Layers:',
      `    filesystem:  available (${spawnSync('bwrap', ['--version'], {encoding: 'utf8'}).stdout.trim()})`,
      '    network:  unavailable — disabled by PIPELOCK_SANDBOX_DISABLE',
      '      remaining bypass: egress goes through pipelock only while the agent honours HTTP(S)_PROXY; a process that clears them or opens a raw socket reaches the network unscanned',
      '    syscall:  available', '',
      '  WARNING: network: disabled by PIPELOCK_SANDBOX_DISABLE', '',
    ].join('\n'))
    assert.equal(r.stderr, 'sandbox degraded [SANDBOX_DEGRADED]\n')
  })

  test('--best-effort without the network namespace runs degraded, loudly, and the bypass is real', async () => {
    hits.length = 0
    const r = await sandbox(['--best-effort', '--', 'sh', '-c', `env -u HTTP_PROXY -u http_proxy curl -s -o /dev/null -w '%{http_code}\\n' http://127.0.0.1:${host.originPort}/bypass`], {PIPELOCK_SANDBOX_DISABLE: 'network'})
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stderr.split('\n')
    assert.ok(lines.includes('[sandbox] network: DEGRADED (no namespace, proxy-based routing only)'), r.stderr)
    assert.ok(lines.includes('[sandbox] containment: 2/3 layers active'), r.stderr)
    assert.ok(lines.includes('pipelock: WARNING: sandbox DEGRADED (2/3 layers active): network missing (disabled by PIPELOCK_SANDBOX_DISABLE) — egress goes through pipelock only while the agent honours HTTP(S)_PROXY; a process that clears them or opens a raw socket reaches the network unscanned'), r.stderr)
    // What the warning says: without the namespace a process that clears the variables gets out.
    assert.equal(r.stdout, '200\n')
    assert.deepEqual(hits, ['/bypass'])
  })

  test('the default mode refuses without the network namespace; --strict refuses without any layer', async () => {
    const d = await sandbox(['--', 'true'], {PIPELOCK_SANDBOX_DISABLE: 'network'})
    assert.equal(d.status, 1)
    assert.equal(d.stderr, 'sandbox layer unavailable: disabled by PIPELOCK_SANDBOX_DISABLE [SANDBOX_LAYER_UNAVAILABLE]; hint: use --best-effort for degraded mode, or the sidecar topology (docs/sandbox.md)\n')
    const s = await sandbox(['--strict', '--', 'true'], {PIPELOCK_SANDBOX_DISABLE: 'syscall'})
    assert.equal(s.status, 1)
    assert.equal(s.stderr, '[sandbox] FATAL: strict mode requires all 3 layers active, got 2 [SANDBOX_LAYER_UNAVAILABLE]; hint: missing: syscall (disabled by PIPELOCK_SANDBOX_DISABLE)\n')
  })

  test('the embedded proxy opens no listener of the config but its own (a config shared with a running proxy works)', async () => {
    // Both ports are held here, as a running pipelock run with the same config would hold them.
    const taken = [http.createServer(), http.createServer()]
    for (const t of taken) await new Promise<void>((r) => t.listen(0, '127.0.0.1', r))
    try {
      const [m, a] = taken.map((t) => (t.address() as AddressInfo).port)
      const shared = path.join(host.root, 'shared.yaml')
      writeFileSync(shared, `metrics_listen: 127.0.0.1:${m}\nkill_switch:\n  api_listen: 127.0.0.1:${a}\n  api_token: t0k3n-for-the-test\n`)
      const r = await runCliAsync(['sandbox', '--config', shared, '--workspace', host.ws, '--', 'true'], {env: env()})
      assert.equal(r.status, 0, r.stderr)
    } finally {
      for (const t of taken) await new Promise<void>((r) => t.close(() => r()))
    }
  })

  test('the embedded proxy serves the sandboxed process egress only: no admin API, kill switch, /stats, /metrics or /health through the bridge', async () => {
    hits.length = 0
    // A config shared with `pipelock run`: an admin token and no api_listen, so a plain run serves
    // the admin API on its main listener, the one the bridge leads to.
    const token = 'tok-abcdefghijklmnopqrstuvwxyz0123456789ABCD'
    const shared = path.join(host.root, 'admin-token.yaml')
    writeFileSync(shared, ['ssrf:', '  ip_allowlist: ["127.0.0.1/32"]', 'kill_switch:', `  api_token: ${token}`, 'session_profiling:', '  enabled: true', ''].join('\n'))
    const direct = "curl -s -o /dev/null -w '%{http_code}\\n' --noproxy '*'"
    const r = await runCliAsync(['sandbox', '--config', shared, '--workspace', host.ws, '--env', 'T', '--', 'sh', '-c', [
      `${direct} -X POST -H "Authorization: Bearer $T" -d '{"active":true}' http://127.0.0.1:8888/api/v1/killswitch`,
      `${direct} -H "Authorization: Bearer $T" http://127.0.0.1:8888/api/v1/killswitch/status`,
      `${direct} -H "Authorization: Bearer $T" http://127.0.0.1:8888/api/v1/sessions`,
      `${direct} http://127.0.0.1:8888/stats`,
      `${direct} http://127.0.0.1:8888/metrics`,
      `${direct} http://127.0.0.1:8888/health`,
      `curl -s -w ' %{http_code}\\n' http://127.0.0.1:${host.originPort}/after-admin`,
    ].join('; ')], {env: env({T: token})})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, '404\n404\n404\n404\n404\n404\norigin says hello\n 200\n')
    assert.deepEqual(hits, ['/after-admin'])
    const lines = r.stderr.split('\n')
    // The banner names no route the sandboxed process cannot use, and says where the operator's are.
    assert.deepEqual(lines.filter((l) => /^ {2}(?:API|Health|Stats):/.test(l)), [])
    assert.ok(lines.includes("pipelock: the sandbox's proxy serves egress only (forward proxy, CONNECT, /fetch, /ws): /health, /stats, /metrics and the admin API are not served to the sandboxed process; use --metrics-listen for metrics, or --proxy to a pipelock run with kill_switch.api_listen for the admin API"), r.stderr)
    assert.doesNotMatch(r.stderr, new RegExp(token))
  })

  test('--proxy at an address where no pipelock answers refuses to start the agent', async () => {
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const port = (closed.address() as AddressInfo).port
    await new Promise<void>((r) => closed.close(() => r()))
    const marker = path.join(host.ws, 'proxy-probe-ran')
    const r = await sandbox(['--proxy', `127.0.0.1:${port}`, '--', 'touch', marker])
    assert.equal(r.status, 1, r.stderr)
    assert.equal(r.stderr.split('\n').at(-2), `--proxy 127.0.0.1:${port}: no pipelock answers there (connection refused (ECONNREFUSED)) [SANDBOX_LAUNCH_FAILED]; hint: start \`pipelock run\` with forward_proxy enabled at that address first, or leave out --proxy to run an embedded proxy`)
    assert.ok(!existsSync(marker), 'the agent never ran')
  })

  test('the agent\'s exit status is propagated; a missing command is 127', async () => {
    const a = await sandbox(['--', 'sh', '-c', 'exit 7'])
    assert.equal(a.status, 7)
    const b = await sandbox(['--', 'no-such-command-here'])
    assert.equal(b.status, 127)
    assert.match(b.stderr, /\[sandbox\] command not found: no-such-command-here/)
  })

  test('SIGTERM to pipelock ends the agent and a setsid grandchild; the sandbox\'s temporary directory is removed', async () => {
    // Only the grandchild's command line holds the whole token (the outer script builds it).
    const token = `pipelock-sandbox-grandchild-${process.pid}`
    // A TMPDIR of its own: the other sandbox test files, running at the same time, make theirs in the shared one.
    const tmp = mkdtempSync(path.join(tmpdir(), 'pipelock-sandbox-test-tmp-'))
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', host.cfg, '--workspace', host.ws, '--', 'sh', '-c', `A=pipelock-sandbox; B=grandchild-${process.pid}; setsid sh -c "sleep 300; : $A-$B" & sleep 1; echo started; wait`], {env: env({TMPDIR: tmp}), stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
    await new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => c.toString().includes('started') && resolve()))
    assert.equal(processesWith(token).length, 1, 'the grandchild runs')
    assert.equal(sandboxDirs(tmp).length, 1, 'one sandbox directory while it runs')
    p.kill('SIGTERM')
    assert.equal(await exited, 143, err) // 128 + SIGTERM: the agent was terminated
    assert.match(err, /pipelock: sandboxed process killed by SIGTERM|exited with status 143/)
    assert.deepEqual(processesWith(token), [])
    assert.deepEqual(sandboxDirs(tmp), [])
    rmSync(tmp, {recursive: true, force: true})
  })

  test('SIGINT to pipelock (Ctrl-C in a script) ends the agent and exits 130, as a shell reports an interrupted command', async () => {
    const token = `pipelock-sandbox-interrupted-${process.pid}`
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', host.cfg, '--workspace', host.ws, '--', 'sh', '-c', `A=pipelock-sandbox; B=interrupted-${process.pid}; sh -c "sleep 300; : $A-$B" & sleep 1; echo started; wait`], {env: env(), stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
    await new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => c.toString().includes('started') && resolve()))
    assert.equal(processesWith(token).length, 1, 'the agent runs')
    p.kill('SIGINT')
    assert.equal(await exited, 130, err) // 128 + SIGINT (it was 143: SIGTERM was sent in its place)
    assert.match(err, /\npipelock: sandboxed process killed by SIGINT\n/)
    assert.deepEqual(processesWith(token), [])
  })

  test('SIGHUP to pipelock ends the agent and exits 129; the embedded proxy does not take it as a reload as well', async () => {
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', host.cfg, '--workspace', host.ws, '--', 'sh', '-c', 'sleep 300 & echo started; wait'], {env: env(), stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
    await new Promise<void>((resolve) => p.stdout.on('data', (c: Buffer) => c.toString().includes('started') && resolve()))
    p.kill('SIGHUP')
    assert.equal(await exited, 129, err)
    assert.match(err, /\npipelock: sandboxed process killed by SIGHUP\n/)
    assert.doesNotMatch(err, /config_reload|config reloaded/, 'a hangup ends the sandbox; it is not a reload request')
    // The proxy is stopped after its agent, by the sandbox.
    assert.ok(err.indexOf('\nPipelock stopped.') > err.indexOf('killed by SIGHUP'), err)
  })

  test('--env: KEY=VALUE and a bare KEY pass; a proxy or loader variable is refused; pipelock\'s environment is not inherited', async () => {
    const r = await sandbox(['--env', 'MODE=ci', '--env', 'FROM_PARENT', '--', 'sh', '-c', 'echo "$MODE $FROM_PARENT ${PARENT_SECRET:-absent}"'], {FROM_PARENT: 'yes', PARENT_SECRET: 'should-not-pass'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'ci yes absent\n')
    const bad = await sandbox(['--env', 'LD_PRELOAD=/x.so', '--', 'true'])
    assert.equal(bad.status, 2)
    assert.equal(bad.stderr.trim().split('\n').at(-1), '--env LD_PRELOAD is blocked: this variable can subvert sandbox containment [USAGE]')
    assert.doesNotMatch(bad.stderr, /launching sandboxed process/, 'refused before anything is said to start')
    for (const [flag, value, line] of [
      ['--proxy', 'nonsense', '--proxy "nonsense": want host:port of a running pipelock with forward_proxy enabled [USAGE]'],
      ['--metrics-listen', 'nowhere', '--metrics-listen "nowhere": want host:port (port 0 picks a free port) [USAGE]'],
    ] as const) {
      const addr = await sandbox([flag, value, '--', 'true'])
      assert.deepEqual([addr.status, addr.stderr], [2, `${line}\n`], 'one line, before anything is said to start')
    }
    const proxy = await sandbox(['--env', 'Foo_Proxy=x', '--', 'true'])
    assert.equal(proxy.stderr.trim().split('\n').at(-1), '--env Foo_Proxy is blocked: this variable can subvert sandbox containment [USAGE]')
    const spaced = await sandbox(['--env', 'A B=1', '--', 'true'])
    assert.equal(spaced.status, 2)
    assert.equal(spaced.stderr.trim().split('\n').at(-1), '--env "A B" is not a variable name (letters, digits and _, not starting with a digit) [USAGE]')
  })

  test('--env KEY unset in pipelock\'s environment: dropped, with one warning line naming it', async () => {
    const r = await sandbox(['--env', 'MODE=ci', '--env', 'NOT_SET_HERE', '--', 'sh', '-c', 'echo "$MODE ${NOT_SET_HERE:-absent}"'])
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, 'ci absent\n')
    const lines = r.stderr.split('\n')
    const at = lines.indexOf('pipelock: passing 1 env var(s) to sandboxed process: MODE')
    assert.ok(at >= 0, r.stderr)
    assert.equal(lines[at + 1], "pipelock: WARNING: --env NOT_SET_HERE is not set in pipelock's environment; the sandboxed process starts without it")
  })
})

describe('doctor with sandbox.enabled', () => {
  test('reports the layers: ok here; with the network layer missing a warning naming the bypass (best_effort)', async () => {
    const file = path.join(host.root, 'doctor.yaml')
    writeFileSync(file, 'sandbox:\n  enabled: true\n  best_effort: true\n')
    const ok = await runCliAsync(['doctor', '--json', '--config', file], {env: env()})
    const check = (out: string): Record<string, unknown> | undefined => (JSON.parse(out) as {checks: Array<Record<string, unknown>>}).checks.find((c) => c.name === 'sandbox')
    assert.deepEqual(check(ok.stdout), {name: 'sandbox', surface: 'host', status: 'ok', configured: true, reachable: true, enforcing: true, detail: 'filesystem, network and syscall layers available (3/3)'})
    const degraded = await runCliAsync(['doctor', '--json', '--config', file], {env: env({PIPELOCK_SANDBOX_DISABLE: 'network'})})
    assert.deepEqual(check(degraded.stdout), {
      name: 'sandbox', surface: 'host', status: 'warn', configured: true, reachable: true, enforcing: false,
      detail: '2/3 layers available; network missing (disabled by PIPELOCK_SANDBOX_DISABLE): egress goes through pipelock only while the agent honours HTTP(S)_PROXY; a process that clears them or opens a raw socket reaches the network unscanned',
      next: 'install bubblewrap and allow user namespaces (docs/sandbox.md, "Environments"), or use the sidecar topology',
    })
  })
})

describe('canary tokens in the agent\'s environment', () => {
  test('the canary is injected into the sandboxed process (from the config, not pipelock\'s environment); sent out, it is blocked', async () => {
    hits.length = 0
    // pipelock's own SERVICE_TOKEN must neither reach the agent nor become the canary.
    const r = await sandbox(['--', 'sh', '-c', `echo "token=$SERVICE_TOKEN"; curl -s -o /dev/null -w '%{http_code}\\n' -H "Authorization: Bearer $SERVICE_TOKEN" http://127.0.0.1:${host.originPort}/api`], {SERVICE_TOKEN: 'pipelock-own-value-0000'})
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout, `token=${CANARY}\n403\n`)
    assert.deepEqual(hits, [])
    assert.ok(r.stderr.split('\n').includes('pipelock: canary token(s) injected as SERVICE_TOKEN'), r.stderr)
    const blocked = auditEvents(r.stderr).find((e) => e.event === 'blocked')
    assert.match(String(blocked?.reason), /Canary Token \(planted\)/)
    assert.doesNotMatch(r.stderr, new RegExp(CANARY))
  })

  test('mcp proxy -- CMD injects the canary into the wrapped server; a tool argument carrying it is blocked', async () => {
    const server = path.join(host.root, 'echo-env-server.mjs')
    writeFileSync(server, MCP_SERVER)
    const w = await wrapMcpProxy(['--config', host.cfg, '--', process.execPath, server], env({SERVICE_TOKEN: 'pipelock-own-value-0000'}) as Record<string, string>)
    try {
      const seen = await w.client.callTool({name: 'env', arguments: {name: 'SERVICE_TOKEN'}})
      assert.deepEqual(seen.content, [{type: 'text', text: CANARY}])
      await assert.rejects(w.client.callTool({name: 'env', arguments: {name: CANARY}}), /blocked|DLP/i)
      assert.match(w.stderr(), /pipelock: canary token\(s\) injected as SERVICE_TOKEN/)
    } finally {
      await w.close()
    }
  })
})

describe('pipelock sandbox: file sentry', () => {
  test('a sandboxed agent writing a key under watch_paths is reported as the agent and, with action block, ended', async () => {
    const fsCfg = path.join(host.root, 'file-sentry.yaml')
    writeFileSync(fsCfg, ['file_sentry:', '  enabled: true', `  watch_paths: [${JSON.stringify(host.ws)}]`, '  action: block', ''].join('\n'))
    const leak = path.join(host.ws, 'leak.txt')
    // The key is assembled by the shell inside the sandbox: no literal credential in the command line either.
    const r = await runCliAsync(['sandbox', '--config', fsCfg, '--workspace', host.ws, '--', 'sh', '-c', `exec 3>${leak}; k=AKIA; echo "key=\${k}QYLPMN5HHHFPZAM2" >&3; sleep 30`], {env: env()})
    assert.equal(r.status, 1, r.stderr)
    assert.ok(r.stderr.includes('pipelock: file sentry watching 1 path(s)\n'), r.stderr)
    assert.ok(r.stderr.includes(`pipelock: [file_sentry] DLP match in ${leak}: AWS Access ID (severity=critical) (agent process)\n`), r.stderr)
    assert.ok(r.stderr.endsWith(`file sentry: the sandboxed process wrote a secret (AWS Access ID) to ${leak}; action block ended it [FILE_SENTRY_BLOCKED]\n`), r.stderr)
    // The event goes through the embedded proxy's audit log (its file, syslog and webhook sinks), not a bare stderr line.
    const event = auditEvents(r.stderr).find((e) => e.event === 'file_sentry_dlp')
    assert.ok(event !== undefined, r.stderr)
    assert.deepEqual([event.level, event.path, event.pattern, event.severity, event.is_agent, event.encoded, event.action], ['warn', leak, 'AWS Access ID', 'critical', true, false, 'block'])
    assert.doesNotMatch(r.stderr, /pipelock: audit: /)
  })
})

describe('pipelock sandbox --metrics-listen', () => {
  test('serves the embedded proxy\'s registry and pipelock_file_sentry_findings_total while the agent runs', async () => {
    const dir = mkdtempSync(path.join(host.ws, 'metrics-'))
    // The config stays outside the workspace the agent can write (the sandbox refuses one inside).
    const mCfg = path.join(host.root, `${path.basename(dir)}.yaml`)
    writeFileSync(mCfg, ['file_sentry:', '  enabled: true', `  watch_paths: [${JSON.stringify(dir)}]`, ''].join('\n'))
    const leak = path.join(dir, 'leak.txt')
    const go = path.join(dir, 'go')
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'sandbox', '--config', mCfg, '--workspace', host.ws, '--metrics-listen', '127.0.0.1:0', '--', 'sh', '-c', `exec 3>${leak}; k=AKIA; echo "key=\${k}QYLPMN5HHHFPZAM2" >&3; while [ ! -e ${go} ]; do sleep 0.05; done`], {env: env(), stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
    try {
      const deadline = Date.now() + 30_000
      while (!err.includes(`DLP match in ${leak}: AWS Access ID (severity=critical) (agent process)\n`) && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
      const addr = /pipelock: metrics listening on (127\.0\.0\.1:\d+)\n/.exec(err)
      assert.ok(addr !== null, err)
      const res = await fetch(`http://${addr[1]}/metrics`)
      assert.equal(res.status, 200)
      const body = await res.text()
      assert.ok(body.endsWith([
        '# HELP pipelock_file_sentry_findings_total Secrets found in files written under file_sentry.watch_paths.',
        '# TYPE pipelock_file_sentry_findings_total counter',
        'pipelock_file_sentry_findings_total{agent="true",pattern="AWS Access ID",severity="critical"} 1',
        '',
      ].join('\n')), body)
      // The embedded proxy's own registry comes first.
      assert.match(body, /^# HELP pipelock_/)
      assert.match(body, /\n# TYPE pipelock_requests_total counter\n/)
    } finally {
      writeFileSync(go, '')
    }
    assert.equal(await exited, 0, err)
  })
})

describe('pipelock sandbox: file sentry receipts', () => {
  test('with a signing flight_recorder, a finding is a signed receipt in the embedded proxy\'s chain (layer file_sentry)', async () => {
    const dir = mkdtempSync(path.join(host.ws, 'receipts-'))
    const keys = mkdtempSync(path.join(host.root, 'keys-'))
    const recorder = path.join(host.root, `recorder-${path.basename(dir)}`)
    const key = keyPairFromSeed(Buffer.alloc(32, 7))
    writeFileSync(path.join(keys, 'receipt.key'), encodePrivateKeyText(goPrivateKey(key)), {mode: 0o600})
    writeFileSync(path.join(keys, 'receipt.pub'), encodePublicKeyText(key.publicKey))
    const rCfg = path.join(host.root, `${path.basename(dir)}.yaml`)
    writeFileSync(rCfg, [
      'flight_recorder:', '  enabled: true', `  dir: ${JSON.stringify(recorder)}`, `  signing_key_path: ${JSON.stringify(path.join(keys, 'receipt.key'))}`,
      'file_sentry:', '  enabled: true', `  watch_paths: [${JSON.stringify(dir)}]`, '  action: block', '',
    ].join('\n'))
    const leak = path.join(dir, 'leak.txt')
    const r = await runCliAsync(['sandbox', '--config', rCfg, '--workspace', host.ws, '--', 'sh', '-c', `exec 3>${leak}; k=AKIA; echo "key=\${k}QYLPMN5HHHFPZAM2" >&3; sleep 30`], {env: env()})
    assert.equal(r.status, 1, r.stderr)
    const records: Array<Record<string, unknown>> = []
    for (const f of readdirSync(recorder).filter((n) => n.endsWith('.jsonl')).sort()) {
      for (const l of readFileSync(path.join(recorder, f), 'utf8').trim().split('\n')) {
        const e = JSON.parse(l) as {type: string; detail: {action_record?: Record<string, unknown>}}
        if (e.type === 'action_receipt' && e.detail.action_record?.layer === 'file_sentry') records.push(e.detail.action_record)
      }
    }
    assert.equal(records.length, 1, JSON.stringify(records))
    assert.deepEqual([records[0]!.target, records[0]!.verdict, records[0]!.transport, records[0]!.pattern], [leak, 'block', 'sandbox', 'AWS Access ID'])
    const v = await runCliAsync(['verify-receipt', '--chain', recorder, '--key', path.join(keys, 'receipt.pub')], {env: env()})
    assert.equal(v.status, 0, v.stdout + v.stderr)
    assert.match(v.stdout, /CHAIN VALID/)
  })
})

describe('pipelock sandbox: file sentry and daemonised descendants', () => {
  // agent.sh daemonises writer.sh (double fork + setsid) and the writer writes a key after its
  // parent has exited: bubblewrap's PID-namespace init adopts it (parent pid 1 inside), and
  // without bubblewrap the agent itself is a child subreaper. Either way the write is the agent's.
  for (const [label, extra, args] of [
    ['under bubblewrap, the PID namespace\'s init adopts it', {}, []],
    ['without bubblewrap (best-effort 0/3), the agent is its subreaper', {PIPELOCK_SANDBOX_DISABLE: 'filesystem,network,syscall'}, ['--best-effort']],
  ] as const) {
    test(`${label}: the write is attributed and action block ends the sandbox`, async () => {
      const dir = mkdtempSync(path.join(host.ws, 'daemon-'))
      for (const f of ['agent.sh', 'writer.sh']) copyFileSync(repoPath('test/fixtures/file-sentry', f), path.join(dir, f))
      const fsCfg = path.join(host.root, `${path.basename(dir)}.yaml`)
      writeFileSync(fsCfg, ['file_sentry:', '  enabled: true', `  watch_paths: [${JSON.stringify(dir)}]`, '  action: block', ''].join('\n'))
      const leak = path.join(dir, 'daemon.txt')
      const info = path.join(dir, 'writer-info')
      writeFileSync(path.join(dir, 'go'), '')
      const r = await runCliAsync(['sandbox', '--config', fsCfg, '--workspace', host.ws, ...args, '--', 'sh', path.join(dir, 'agent.sh'), leak, path.join(dir, 'go'), info, 'sleep', '30'], {env: env(extra)})
      assert.equal(r.status, 1, r.stderr)
      assert.ok(r.stderr.includes(`pipelock: [file_sentry] DLP match in ${leak}: AWS Access ID (severity=critical) (agent process)\n`), r.stderr)
      assert.ok(r.stderr.endsWith(`file sentry: the sandboxed process wrote a secret (AWS Access ID) to ${leak}; action block ended it [FILE_SENTRY_BLOCKED]\n`), r.stderr)
      const [writer, adoptedBy] = readFileSync(info, 'utf8').trim().split(' ')
      assert.equal(adoptedBy, args.length === 0 ? '1' : readFileSync(`${info}.agent`, 'utf8').trim())
      if (args.length > 0) assert.equal(existsSync(`/proc/${writer}/cmdline`) && readFileSync(`/proc/${writer}/cmdline`, 'utf8') !== '', false, 'the daemonised writer outlived the block')
    })
  }
})

describe('mcp proxy --sandbox', () => {
  test('the note on unused sections leaves out what the sandbox bridge applies (forward_proxy, request body scanning)', async () => {
    const noted = path.join(host.root, 'noted.yaml')
    writeFileSync(noted, readFileSync(host.cfg, 'utf8') + 'forward_proxy:\n  enabled: true\nrequest_body_scanning:\n  enabled: true\nhealth_watchdog:\n  enabled: true\n')
    const note = (stderr: string) => stderr.split('\n').filter((l) => l.includes('config sections not used'))
    const plain = await runCliAsync(['mcp', 'proxy', '--config', noted, '--', 'true'], {env: env()})
    assert.deepEqual(note(plain.stderr), ['pipelock: note: config sections not used by mcp proxy: forward_proxy, request_body_scanning, health_watchdog'])
    const boxed = await runCliAsync(['mcp', 'proxy', '--sandbox', '--config', noted, '--workspace', host.ws, '--', 'true'], {env: env()})
    assert.equal(boxed.status, 0, boxed.stderr)
    assert.deepEqual(note(boxed.stderr), ['pipelock: note: config sections not used by mcp proxy: health_watchdog'])
    assert.ok(boxed.stderr.includes('forward_proxy forced on for sandboxed MCP egress'), boxed.stderr)
  })

  test('a sandboxed stdio server\'s HTTP calls go through the embedded proxy and are scanned', async () => {
    hits.length = 0
    writeFileSync(path.join(host.ws, 'server.mjs'), MCP_SERVER)
    const w = await wrapMcpProxy(['--sandbox', '--config', host.cfg, '--workspace', host.ws, '--', 'node', 'server.mjs'], env() as Record<string, string>)
    try {
      const clean = await w.client.callTool({name: 'fetch', arguments: {url: `http://127.0.0.1:${host.originPort}/from-mcp`}})
      assert.deepEqual(clean.content, [{type: 'text', text: '200 origin says hello\n'}])
      // The URL carries an AWS key: the MCP input scan would catch it in the argument, so the
      // server builds it from harmless parts and the sandbox's egress scan is what blocks it.
      const leak = await w.client.callTool({name: 'fetch', arguments: {url: `http://127.0.0.1:${host.originPort}/leak?k=`, suffix_reversed: [...AWS_KEY].reverse().join('')}})
      assert.deepEqual(leak.content, [{type: 'text', text: '403'}])
      const direct = await w.client.callTool({name: 'direct', arguments: {port: host.originPort}})
      assert.deepEqual(direct.content, [{type: 'text', text: 'ECONNREFUSED'}])
      // The embedded proxy's own routes are the operator's: the sandboxed server gets 404.
      for (const p of ['/stats', '/metrics', '/health', '/api/v1/killswitch/status', '/api/v1/sessions']) {
        const own = await w.client.callTool({name: 'bridge', arguments: {path: p}})
        assert.deepEqual(own.content, [{type: 'text', text: '404'}], p)
      }
      assert.deepEqual(hits, ['/from-mcp'])
      const err = w.stderr()
      assert.match(err, /pipelock: proxying MCP server \[node server\.mjs\] \[SANDBOXED\] \(.*workspace=/)
      assert.match(err, /\[sandbox\] containment: 3\/3 layers active/)
      const blocked = auditEvents(err).find((e) => e.event === 'blocked')
      assert.equal(blocked?.block_reason, 'dlp_match')
    } finally {
      await w.close()
    }
  })

  test("an --agent profile's sandbox section sandboxes that agent's server (not the default's); check accepts it", async () => {
    const agentCfg = path.join(host.root, 'agent-sandbox.yaml')
    writeFileSync(agentCfg, ['agents:', '  ops:', '    sandbox:', '      enabled: true', `      workspace: ${host.ws}`, ''].join('\n'))
    const ops = await runCliAsync(['mcp', 'proxy', '--config', agentCfg, '--agent', 'ops', '--', 'sh', '-c', 'echo "cwd=$(pwd)" >&2'], {env: env()})
    assert.equal(ops.status, 0, ops.stderr)
    assert.ok(ops.stderr.includes(`pipelock: proxying MCP server [sh -c echo "cwd=$(pwd)" >&2] [SANDBOXED] (`), ops.stderr)
    assert.ok(ops.stderr.includes(`workspace=${host.ws})\n`), ops.stderr)
    assert.ok(ops.stderr.includes(`cwd=${host.ws}\n`), ops.stderr)
    const plain = await runCliAsync(['mcp', 'proxy', '--config', agentCfg, '--', 'sh', '-c', 'true'], {env: env()})
    assert.equal(plain.status, 0, plain.stderr)
    assert.doesNotMatch(plain.stderr, /SANDBOXED/)
    const check = await runCliAsync(['check', '--config', agentCfg], {env: env()})
    assert.equal(check.status, 0, check.stderr)
  })

  for (const [label, extra, flags] of [
    ['under bubblewrap', {}, ['--sandbox']],
    ['best-effort 0/3, the server its own subreaper', {PIPELOCK_SANDBOX_DISABLE: 'filesystem,network,syscall'}, ['--sandbox-best-effort']],
  ] as const) test(`the file sentry watches the sandboxed server (${label}): a daemonised writer's key is the agent's, action block ends the server`, async () => {
    const dir = mkdtempSync(path.join(host.ws, 'mcp-sentry-'))
    for (const f of ['agent.sh', 'writer.sh']) copyFileSync(repoPath('test/fixtures/file-sentry', f), path.join(dir, f))
    copyFileSync(repoPath('test/mcp/fixtures/raw-server.mjs'), path.join(dir, 'raw-server.mjs'))
    const fsCfg = path.join(host.root, `${path.basename(dir)}.yaml`)
    writeFileSync(fsCfg, ['file_sentry:', '  enabled: true', `  watch_paths: [${JSON.stringify(dir)}]`, '  action: block', ''].join('\n'))
    const leak = path.join(dir, 'daemon.txt')
    const go = path.join(dir, 'go')
    const p = spawn(process.execPath, [repoPath('bin', 'run.js'), 'mcp', 'proxy', ...flags, '--config', fsCfg, '--workspace', host.ws, '--', 'sh', path.join(dir, 'agent.sh'), leak, go, path.join(dir, 'info'), 'node', path.join(dir, 'raw-server.mjs'), 'echo'], {env: env(extra), stdio: ['pipe', 'pipe', 'pipe']})
    let err = ''
    let out = ''
    p.stderr.on('data', (c: Buffer) => (err += c.toString()))
    p.stdout.on('data', (c: Buffer) => (out += c.toString()))
    const exited = new Promise<number | null>((r) => p.once('exit', (code) => r(code)))
    p.stdin.write('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}\n')
    const deadline = Date.now() + 30_000
    while (!out.includes('"id":1') && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setTimeout(r, 50))
    assert.ok(out.includes('"id":1'), err)
    writeFileSync(go, '')
    // stdin stays open: only the sentry ends the session.
    assert.equal(await exited, 1, err)
    assert.ok(err.includes('pipelock: file sentry watching 1 path(s)\n'), err)
    assert.doesNotMatch(err, /file_sentry is not yet supported with --sandbox/)
    assert.ok(err.includes(`pipelock: [file_sentry] DLP match in ${leak}: AWS Access ID (severity=critical) (agent process)\n`), err)
    assert.ok(err.endsWith(`file sentry: the MCP server wrote a secret (AWS Access ID) to ${leak}; action block ended it [FILE_SENTRY_BLOCKED]\n`), err)
    const [, adoptedBy] = readFileSync(path.join(dir, 'info'), 'utf8').trim().split(' ')
    assert.equal(adoptedBy, flags[0] === '--sandbox' ? '1' : readFileSync(path.join(dir, 'info.agent'), 'utf8').trim())
  })

  test('--sandbox with --upstream is refused', async () => {
    const r = await runCliAsync(['mcp', 'proxy', '--sandbox', '--upstream', 'http://127.0.0.1:1/mcp'], {env: env()})
    assert.equal(r.status, 2)
    assert.equal(r.stderr, '--sandbox cannot be used with --upstream (cannot sandbox a remote server) [USAGE]\n')
  })
})

/**
 * A dependency-free stdio MCP server: `env` returns a variable of its environment, `fetch`
 * GETs a URL through HTTP_PROXY, `direct` opens a TCP connection to 127.0.0.1:port.
 */
const MCP_SERVER = String.raw`
import http from 'node:http'
import net from 'node:net'
import readline from 'node:readline'
const send = (m) => process.stdout.write(JSON.stringify(m) + '\n')
const text = (id, t) => send({jsonrpc: '2.0', id, result: {content: [{type: 'text', text: t}]}})
const tools = ['env', 'fetch', 'direct', 'bridge'].map((name) => ({name, description: name, inputSchema: {type: 'object'}}))
readline.createInterface({input: process.stdin}).on('line', (line) => {
  const m = JSON.parse(line)
  if (m.id === undefined) return
  if (m.method === 'initialize') return send({jsonrpc: '2.0', id: m.id, result: {protocolVersion: m.params.protocolVersion, capabilities: {tools: {}}, serverInfo: {name: 'fixture', version: '1'}}})
  if (m.method === 'tools/list') return send({jsonrpc: '2.0', id: m.id, result: {tools}})
  const a = m.params?.arguments ?? {}
  if (m.params?.name === 'env') return text(m.id, process.env[a.name] ?? '')
  if (m.params?.name === 'fetch') {
    const proxy = new URL(process.env.HTTP_PROXY)
    const target = a.url + (a.suffix_reversed ? [...a.suffix_reversed].reverse().join('') : '')
    const req = http.get({host: proxy.hostname, port: proxy.port, path: target, headers: {host: new URL(target).host}}, (res) => {
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () => text(m.id, res.statusCode === 200 ? res.statusCode + ' ' + body : String(res.statusCode)))
    })
    req.on('error', (e) => text(m.id, e.code))
    return
  }
  if (m.params?.name === 'bridge') {
    // An origin-form request to the bridge itself: what the proxy answers on its own paths.
    const proxy = new URL(process.env.HTTP_PROXY)
    const req = http.get({host: proxy.hostname, port: proxy.port, path: a.path}, (res) => { res.resume(); res.on('end', () => text(m.id, String(res.statusCode))) })
    req.on('error', (e) => text(m.id, e.code))
    return
  }
  if (m.params?.name === 'direct') {
    const s = net.connect({host: '127.0.0.1', port: a.port})
    s.on('connect', () => { s.destroy(); text(m.id, 'connected') })
    s.on('error', (e) => text(m.id, e.code))
    return
  }
  send({jsonrpc: '2.0', id: m.id, error: {code: -32601, message: 'no such method'}})
})
`
