#!/usr/bin/env node
// Installs the Debian packages that some tests drive (curl for the proxy, script(1) for the
// terminal prompts, systemd-analyze for the systemd unit, Python `websockets` as the second
// WebSocket client of the /ws proxy tests, bubblewrap for pipelock sandbox and mcp proxy --sandbox,
// whose tests fail rather than skip without it (iproute2's ip gives their host a public-looking
// address in a network namespace of its own), git for the git protection tests, Chromium for the
// audit report and rsyslog and socat for the syslog emitter) when they are missing and this runs as
// root with apt-get (a fresh CI machine), in one apt-get run while the build runs (scripts/test.mjs).
// The last two tests also install their packages themselves (scripts/ensure-chromium.sh,
// ensure-syslog-tools.sh), so they pass when run alone; installed here, their runs find them.
// Otherwise it names what is missing: the tests that need a tool then skip, which fails the run
// under CI=true (scripts/run-tests.mjs), or fail.
import {spawnSync} from 'node:child_process'

const TOOLS = [
  {command: 'curl', args: ['--version'], pkg: 'curl'},
  {command: 'script', args: ['--version'], pkg: 'bsdutils'},
  {command: 'systemd-analyze', args: ['--version'], pkg: 'systemd'},
  {command: '/usr/bin/python3', args: ['-c', 'import websockets'], pkg: 'python3-websockets'},
  {command: 'bwrap', args: ['--version'], pkg: 'bubblewrap'},
  {command: 'ip', args: ['-V'], pkg: 'iproute2'},
  // git protection's tests drive real git (pre-push hook, pack-objects).
  {command: 'git', args: ['--version'], pkg: 'git'},
  {command: 'sh', args: ['-c', 'test -x /usr/bin/chromium || test -x /usr/bin/chromium-browser'], pkg: 'chromium', name: 'chromium'},
  {command: 'sh', args: ['-c', 'command -v rsyslogd && command -v socat'], pkg: 'rsyslog socat', name: 'rsyslogd, socat'},
]
const missing = TOOLS.filter((t) => spawnSync(t.command, t.args, {stdio: 'ignore'}).status !== 0)
if (missing.length === 0) process.exit(0)
const pkgs = missing.flatMap((t) => t.pkg.split(' '))
const canInstall = process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], {stdio: 'ignore'}).status === 0
if (!canInstall) {
  console.error(`test tools missing: ${missing.map((t) => t.name ?? t.command).join(', ')} (Debian: apt-get install ${pkgs.join(' ')}); the tests that need them will skip or fail`)
  process.exit(0)
}
console.error(`installing test tools: ${pkgs.join(' ')}`)
const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...pkgs]]) {
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {stdio: ['ignore', 'ignore', 'inherit'], env})
  if (r.status !== 0) {
    console.error(`apt-get ${args[0]} failed (exit ${r.status}); the tests that need ${pkgs.join(', ')} will skip`)
    process.exit(0)
  }
}
