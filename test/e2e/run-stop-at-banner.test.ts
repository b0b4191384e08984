/**
 * A SIGINT that arrives as soon as the start banner is out stops the proxy cleanly (exit 0,
 * "Pipelock stopped."), not by the signal's default action: the banner is printed before the
 * proxy's own signal handlers are set, and a supervisor (or a test) may act on it at once. The
 * child sends the signal to itself from its own stderr, on the banner's `Listen:` line, so the
 * signal lands in that window every run.
 */
import {test} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {repoPath} from '../helpers/vectors.js'

const PRELOAD = `
const write = process.stderr.write.bind(process.stderr)
let sent = false
process.stderr.write = (chunk, ...rest) => {
  const r = write(chunk, ...rest)
  if (!sent && String(chunk).includes('Listen: ')) {
    sent = true
    process.kill(process.pid, 'SIGINT')
  }
  return r
}
`

for (const args of [['run'], ['learn', 'observe']]) {
  test(`pipelock ${args.join(' ')}: a SIGINT on the start banner stops it cleanly`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pl-stop-banner-'))
    const preload = path.join(dir, 'signal-on-banner.mjs')
    writeFileSync(preload, PRELOAD)
    const cfg = path.join(dir, 'run.yaml')
    writeFileSync(cfg, 'forward_proxy: {enabled: true}\n')
    const extra = args[0] === 'learn' ? ['--capture-dir', path.join(dir, 'capture')] : []
    const child = spawn(process.execPath, [repoPath('bin', 'run.js'), ...args, '--config', cfg, '--listen', '127.0.0.1:0', ...extra], {
      env: {...process.env, NO_COLOR: '1', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${pathToFileURL(preload).href}`.trim()},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')))
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])))
    assert.equal(signal, null, err)
    assert.equal(code, 0, err)
    assert.match(err, /Listen: /)
    assert.match(err, /Pipelock stopped\./)
  })
}
