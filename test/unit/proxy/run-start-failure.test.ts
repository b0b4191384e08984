import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {startRun, type RunOptions} from '../../../src/plugins/proxy/index.js'

// A start-up that fails after the banner (the listeners are bound) closes them before the error
// reaches the caller: the process must not stay up with a port open and no proxy behind it.
// The failure is injected where the start writes its first line after the banner that can fail:
// the warning about a damaged config-state.json.

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = net.connect({host: '127.0.0.1', port})
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'))
  })

describe('run: a start-up failure after the banner', () => {
  it('closes the listeners before it is reported', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pipelock-start-failure-'))
    const evidence = path.join(dir, 'evidence')
    mkdirSync(evidence)
    writeFileSync(path.join(evidence, 'config-state.json'), 'null')
    const config = path.join(dir, 'run.yaml')
    writeFileSync(config, `forward_proxy: {enabled: true}\nflight_recorder:\n  enabled: true\n  dir: ${evidence}\n`)
    const lines: string[] = []
    const opts: RunOptions = {
      configFile: config,
      listen: '127.0.0.1:0',
      agentArgs: [],
      version: 'test',
      env: {HOME: dir},
      stderr: (line) => {
        lines.push(line)
        if (line.includes('is damaged')) throw new Error('injected: stderr failed')
      },
      stdout: {write: () => true} as unknown as RunOptions['stdout'],
    }
    await assert.rejects(startRun(opts), /injected: stderr failed/)
    const listen = lines.map((l) => /^ {2}Listen: 127\.0\.0\.1:(\d+)$/.exec(l)).find((m) => m !== null)
    assert.ok(listen, `no banner: ${lines.join('\n')}`)
    assert.equal(await refused(Number(listen[1])), true, 'the listener is closed')
  })
})
