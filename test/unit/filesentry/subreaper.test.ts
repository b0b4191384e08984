// The child-subreaper launcher (filesentry/subreaper.ts) with real processes: the wrapped command
// keeps its pid, exit status and argv, and adopts an orphaned grandchild; where it cannot be set
// up the reason is named and the command runs as given. killTree ends a setsid daemon that a
// process-group kill would miss.
import assert from 'node:assert/strict'
import {spawn, spawnSync} from 'node:child_process'
import {once} from 'node:events'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {descendants, killTree, subreaperLaunch} from '../../../src/plugins/filesentry/index.js'

const env = {PATH: process.env.PATH}

test('the command runs in place (same argv and exit status) and adopts an orphaned grandchild', () => {
  // The inner shell starts `sleep 31` and exits at once; the orphan must then show up among the
  // wrapped shell's own children (a subreaper adopts it; without one it would go to init). The
  // script polls for it (for up to 10 s: a loaded machine schedules slowly) and ends it.
  const script = [
    'sh -c "sleep 31 &"',
    'i=0; found=no',
    'while [ $i -lt 200 ] && [ $found = no ]; do',
    '  for k in $(cat /proc/$$/task/*/children); do',
    '    if [ "$(tr "\\000" " " 2>/dev/null < /proc/$k/cmdline)" = "sleep 31 " ]; then found=yes; kill $k; fi',
    '  done',
    '  [ $found = no ] && sleep 0.05; i=$((i+1))',
    'done',
    'echo "adopted $found"; echo "$0 $1"; exit 7',
  ].join('\n')
  const r = subreaperLaunch('sh', ['-c', script, 'a b'], env)
  assert.ok(r.ok)
  const out = spawnSync(r.launch.file, [...r.launch.args], {env, encoding: 'utf8'})
  assert.equal(out.status, 7, out.stderr)
  assert.equal(out.stdout, 'adopted yes\na b \n')
})

test('not set up, with the reason: off Linux, unknown architecture, command not found', () => {
  assert.deepEqual(subreaperLaunch('true', [], env, 'darwin'), {ok: false, reason: 'child subreaper needs Linux'})
  assert.deepEqual(subreaperLaunch('true', [], env, 'linux', 'mips'), {ok: false, reason: 'no prctl syscall number known for mips'})
  assert.deepEqual(subreaperLaunch('no-such-command-here', [], env), {ok: false, reason: 'command "no-such-command-here" not found'})
})

test('killTree ends the root and a setsid daemon under it', async () => {
  const r = subreaperLaunch('sh', ['-c', 'setsid sh -c "sleep 60" & exec sleep 60'], env)
  assert.ok(r.ok)
  const child = spawn(r.launch.file, [...r.launch.args], {env, stdio: 'ignore'})
  const exited = once(child, 'exit')
  let tree: number[] = []
  while (tree.length < 2) {
    tree = await descendants(child.pid!)
    await new Promise((res) => setTimeout(res, 20))
  }
  const daemon = tree.find((p) => p !== child.pid)!
  await killTree(child.pid!)
  await exited
  // SIGKILL is delivered asynchronously: wait until it is reaped by init or a zombie.
  const state = (): string => {
    try {
      return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${daemon}/status`, 'utf8'))?.[1] ?? ''
    } catch {
      return 'gone'
    }
  }
  const deadline = Date.now() + 10_000
  while (!['gone', 'Z', 'X'].includes(state()) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20))
  assert.ok(['gone', 'Z', 'X'].includes(state()), `daemon ${daemon} state ${state()}`)
})
